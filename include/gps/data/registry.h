// Named datasets, selected by the `data.*` config keys.
#pragma once

#include "gps/data/dataset.h"

#include <string>

namespace gps {

struct DataConfig {
  std::string name = "fashion-mnist";                     // fashion-mnist | mnist
  std::string root = "/usr/share/datasets/fashion-mnist"; // folder of the files
  int64_t subset = 0;         // stratified subset of the train split (0 = all)
  int64_t test_subset = 0;    // stratified subset of the test split (0 = all)
  int64_t seed = 0;           // seed of the subset draw (independent of the training seed)
};

// Loads `split` ("train" or "test") of the configured dataset; the train
// subset applies to "train" only. Throws gps::Error naming the missing file
// or the unknown dataset name.
Dataset load_dataset(const DataConfig& cfg, const std::string& split);

}  // namespace gps
