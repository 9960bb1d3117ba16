// CIFAR-10 and CIFAR-100, binary version (https://www.cs.toronto.edu/~kriz/cifar.html).
//
// CIFAR-10 (`cifar-10-batches-bin/`): data_batch_1.bin .. data_batch_5.bin
// (train, 50,000 images) and test_batch.bin (10,000); each record is 1 label
// byte (0-9) then 3072 pixel bytes: the 32x32 R plane, then G, then B, rows
// top to bottom. CIFAR-100 (`cifar-100-binary/`): train.bin (50,000) and
// test.bin (10,000); each record is a coarse label byte (0-19), a fine label
// byte (0-99), then the 3072 pixel bytes.
#pragma once

#include "gps/data/registry.h"

#include <string>
#include <vector>

namespace gps {

struct CifarFormat {
  int64_t label_bytes = 1;   // label bytes before the pixels of each record (1 or 2)
  int64_t label_index = 0;   // which of them is the label
  int64_t num_classes = 10;  // labels must be below this
};

// Reads whole records from `files` in order into images [N, 3, 32, 32] uint8
// and labels [N] int64. Throws gps::Error naming the file when it is missing,
// empty, does not hold a whole number of records (the message gives the
// record count, the byte offset of the partial record and its length), or a
// label is out of range (record index and byte offset given).
void read_cifar_files(const std::vector<std::string>& files, const CifarFormat& fmt, torch::Tensor& images,
                      torch::Tensor& labels);

// data.name cifar10 | cifar100, splits train and test. data.root is the
// extracted folder (cifar-10-batches-bin / cifar-100-binary) or the folder
// holding it. CIFAR-100 uses data.cifar100_labels (fine or coarse).
Dataset load_cifar(const DataConfig& cfg, const std::string& split);

}  // namespace gps
