// NumPy .npy files (format 1.0/2.0/3.0, C order, little-endian): the
// interchange format for embeddings and neighbour tables.
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

// Writes a contiguous CPU tensor (float32, float64, int64, int32 or uint8) as
// .npy. Throws gps::Error when the file cannot be written.
void save_npy(const std::string& path, const torch::Tensor& t);

// The bytes of a .npy file (format 1.0) that precede the raw data of `t`
// (magic, version, header length, padded header dict); `t` must be a
// contiguous CPU tensor of a dtype save_npy accepts. The file is these bytes
// followed by t's numel * element_size data bytes.
std::string npy_header(const torch::Tensor& t);

// Reads a .npy file into a CPU tensor of the stored dtype and shape. Checks
// the magic, header syntax, dtype (little-endian f4, f8, i8, i4, u1), C
// order, and that the payload size equals the shape's; errors name the file.
torch::Tensor load_npy(const std::string& path);

// Parses .npy bytes; `what` names the source in errors.
torch::Tensor parse_npy(const std::string& bytes, const std::string& what);

}  // namespace gps
