// R-HID, the Revised Hotel-ID dataset (Feizi et al. 2022, "Revisiting
// Hotels-50K and Hotel-ID"), read as image folders. Assumed layout:
//   <root>/train/<hotel id>/...*.jpg   training images
//   <root>/D_SS/<hotel id>/...         test: branch seen,    chain seen
//   <root>/D_SU/<hotel id>/...         test: branch unseen,  chain seen
//   <root>/D_UU/<hotel id>/...         test: branch unseen,  chain unseen
//   <root>/D_??/<hotel id>/...         test: branch unknown, chain unknown
//                                      (the folder may also be named D_unknown)
// A hotel id folder may hold images in nested folders. Split names in the
// config: train, D_SS, D_SU, D_UU, D_?? (also ss, su, uu, unknown).
// Labels: the index of the hotel id in the sorted union of the hotel-id
// folders of every split present, so a hotel keeps its label across splits
// (D_SS shares hotels with train); num_classes is the size of that union.
// The test splits are for leave-one-out retrieval (Recall@k) inside a split.
// Images: decoded and resized as data.resize / data.image_size say (default
// 224, centre crop) and cached; normalisation mean (0.4620, 0.3980, 0.3292),
// std (0.2619, 0.2529, 0.2460) (docs/reference-behaviour.md §5).
#pragma once

#include "gps/data/registry.h"

#include <string>

namespace gps {

// The folder of an R-HID split name (see above) under `root`; throws
// gps::Error for an unknown name or a missing folder.
std::string rhid_split_folder(const std::string& root, const std::string& split);

// data.name rhid.
Dataset load_rhid(const DataConfig& cfg, const std::string& split);

}  // namespace gps
