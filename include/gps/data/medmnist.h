// MedMNIST v2 (https://medmnist.com): one .npz file per dataset, e.g.
// pathmnist.npz, tissuemnist.npz (and the MedMNIST+ sizes pathmnist_64.npz,
// ...), with arrays train_images, train_labels, val_images, val_labels,
// test_images, test_labels. Images are uint8 [N, H, W] (gray) or
// [N, H, W, 3] (RGB); labels are [N, 1] (or [N]) integers.
#pragma once

#include "gps/data/registry.h"

#include <string>

namespace gps {

// The .npz file of the config: data.root itself when it is a file, else
// <data.root>/<data.medmnist_flag>.npz. Throws gps::Error naming what is missing.
std::string medmnist_file(const DataConfig& cfg);

// Classes of the single-label MedMNIST v2 2D datasets (pathmnist 9,
// tissuemnist 8, ...; size suffixes like "_64" ignored); 0 when unknown.
// chestmnist (multi-label) is not supported.
int64_t medmnist_num_classes(const std::string& flag);

// data.name medmnist, splits train, val, test. Reads only the two arrays of
// the split (plus train_labels to count the classes of an unknown flag).
// Throws gps::Error naming the file and array for a missing array (listing
// those present), a wrong dtype (images must be uint8; labels integer) or
// rank, image/label count mismatch, multi-label labels, or a label out of
// range. Normalisation: ImageNet constants (gray: their channel means).
Dataset load_medmnist(const DataConfig& cfg, const std::string& split);

}  // namespace gps
