// Named datasets, selected by the `data.*` config keys.
#pragma once

#include "gps/data/dataset.h"

#include <string>

namespace gps {

struct DataConfig {
  // fashion-mnist | mnist | cifar10 | cifar100 | medmnist | folder | aircraft | rhid | store
  std::string name = "fashion-mnist";
  // folder (or, for medmnist, the .npz file; for store, the folder of <split>.store files)
  std::string root = "/usr/share/datasets/fashion-mnist";
  std::string train_split = "train";  // split trained on (aircraft: train or trainval)
  std::string test_split = "test";    // split evaluated on (medmnist: val or test; rhid: D_SS, D_SU, D_UU, D_??)
  int64_t subset = 0;         // stratified subset of the train split (0 = all)
  int64_t test_subset = 0;    // stratified subset of the test split (0 = all)
  int64_t seed = 0;           // seed of the subset draw (independent of the training seed)
  std::string medmnist_flag;  // medmnist with root a folder: <root>/<flag>.npz (e.g. pathmnist, tissuemnist_64)
  std::string cifar100_labels = "fine";  // cifar100: fine (100 classes) | coarse (20 superclasses)
  // Image-file datasets (folder, aircraft, rhid):
  int64_t image_size = 0;     // side S of the decoded images (0 = 224)
  int64_t channels = 0;       // 1 gray | 3 RGB (0 = 3)
  std::string resize = "center-crop";  // stretch | center-crop | pad (see image_files.h)
  std::string on_bad_image = "fail";   // fail | skip (drop undecodable files, with a report)
  std::string cache_dir = "runs/cache";  // decoded-image caches ("" = decode every run)
  // Image-file datasets decoded when their rows are read, never held whole
  // (no config key: `gps data pack` sets it to pack folders larger than memory).
  bool decode_on_read = false;
  // The order of anchors in an epoch (sampling/epoch_order.h):
  std::string order = "random";  // random | quasi-random (chunks shuffled, rows within windows of chunks)
  int64_t order_window = 8;      // quasi-random: chunks whose rows are shuffled together
};

// True for the datasets decoded from image files (folder, aircraft, rhid).
bool is_image_file_dataset(const std::string& name);

// Checks among the data.* keys (options that apply to other datasets);
// throws gps::Error naming the keys.
void validate(const DataConfig& cfg);

// Loads a split of the configured dataset. `split` "train" and "test" are the
// roles: they load cfg.train_split and cfg.test_split. Any other value names
// a split of the dataset directly (e.g. "val", "trainval", "D_SU") and plays
// the test role. The result's `split` is the role ("train" or "test"; what
// precomputed priors are matched against), its name "<data.name>/<split>".
// data.subset applies to the train role, data.test_subset to the test role.
// Throws gps::Error naming the missing file, the unknown dataset or split
// name (listing the valid ones), or the malformed input.
Dataset load_dataset(const DataConfig& cfg, const std::string& split);

}  // namespace gps
