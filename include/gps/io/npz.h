// NumPy .npz archives: a zip of .npy members, as np.savez (stored) and
// np.savez_compressed (deflate) write them. Read and written with libzip.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace gps {

// Reads the members of the .npz file `path` into CPU tensors keyed by name
// without the ".npy" suffix ("train_images.npy" -> "train_images"). With
// `only` non-empty, reads just those members and throws when one is missing
// (the message names it and lists the members present). Each member is
// parsed by parse_npy (dtypes f4, f8, i8, i4, u1; C order); the zip CRC of
// every member is verified. Members not ending in ".npy" are ignored.
// Throws gps::Error naming the file (and member) when the archive cannot be
// opened, is not a zip, is corrupt or holds an unsupported array.
// Memory: peak is the decoded arrays plus one member's .npy bytes.
std::map<std::string, torch::Tensor> load_npz(const std::string& path, const std::vector<std::string>& only = {});

// Names of the .npy members of `path` (without ".npy"), in archive order.
std::vector<std::string> list_npz(const std::string& path);

// Writes `arrays` as an .npz file np.load reads: member "<name>.npy" per
// entry, stored (compress = false, like np.savez) or deflated (compress =
// true, like np.savez_compressed). Tensors may be on any device, need not be
// contiguous and may require grad; dtypes float32, float64, int64, int32,
// uint8. The archive is written to a temporary file and renamed, so `path`
// is either the old file or the complete new one. Throws gps::Error naming
// the path for an empty name, an unsupported dtype or a failed write.
void save_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays, bool compress = false);

}  // namespace gps
