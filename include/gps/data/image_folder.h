// Datasets of image files in folders (data.name folder), and the pieces the
// other image-file datasets (aircraft, rhid) share.
//
// Layout of data.root:
//   <root>/train/, <root>/test/ (and optionally <root>/val/): one folder per
//   split; without <root>/train, <root> itself is the train split (no test).
// Each split folder holds either one subfolder per class (labels 0..C-1 in
// sorted order of the subfolder names of the train split; the files below a
// class folder are found recursively) or only image files (unlabeled:
// labels undefined, num_classes 0). Hidden entries and files without an
// image extension (see has_image_extension) are ignored.
// Images are decoded with OpenCV, resized by data.resize to data.image_size
// (see image_files.h) and cached in data.cache_dir. Normalisation: per-channel
// mean/std of the train split.
#pragma once

#include "gps/data/image_files.h"
#include "gps/data/registry.h"

#include <string>
#include <vector>

namespace gps {

// The decoding options of the config: image_size (0 -> 224), channels
// (0 -> 3), resize, on_bad_image, cache_dir. Throws on invalid values.
ImageDecodeOptions image_decode_options(const DataConfig& cfg);

// Every image file below `dir` (recursively), sorted. Throws gps::Error
// naming `dir` when it does not exist.
std::vector<std::string> image_files_under(const std::string& dir);

// Sorted names of the non-hidden subfolders of `dir`.
std::vector<std::string> subfolders(const std::string& dir);

struct ImageFileList {
  std::vector<std::string> paths;
  std::vector<int64_t> labels;  // one per path, or empty when unlabeled
};

// The files of one split folder. With `classes` empty, the class names are
// the folder's subfolders (written to *classes_out when given); otherwise
// every subfolder must be one of `classes`. Throws gps::Error naming the
// folder when it is missing or holds no images, a class folder is empty,
// images and class folders are mixed, or a class is unknown.
ImageFileList scan_split_folder(const std::string& dir, const std::vector<std::string>& classes,
                                std::vector<std::string>* classes_out);

// Decodes `files` (load_image_files) into a dataset named `name`: images,
// labels of the files kept, num_classes, source_size, and mean/std of its
// own images (callers replace them with fixed constants or the train
// split's). The split is left to the caller.
Dataset decode_file_list(const ImageFileList& files, int64_t num_classes, const ImageDecodeOptions& o,
                         const std::string& name);

// data.name folder. Splits: the subfolders of data.root that exist (train,
// test, val, or any other), or "train" = data.root itself.
Dataset load_image_folder(const DataConfig& cfg, const std::string& split);

}  // namespace gps
