// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
//
// Format: 2 zero bytes, a type byte (0x08 = uint8), a rank byte r, then r
// big-endian uint32 dimensions, then the data. Images files have rank 3
// (magic 2051), label files rank 1 (magic 2049).
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

// Reads a whole file, gunzipping when it starts with the gzip magic. Throws
// gps::Error naming the path when it is missing or the stream is corrupt.
std::string read_file_maybe_gz(const std::string& path);

// Parses an IDX uint8 tensor of any rank from bytes. `what` names the source
// in error messages. Checks: zero prefix, dtype 0x08, rank in [1, 4], the
// payload length equal to the product of the dimensions (no truncation, no
// trailing bytes). Returns a contiguous uint8 tensor with the header's shape.
torch::Tensor parse_idx(const std::string& bytes, const std::string& what);

// Reads an IDX file (see read_file_maybe_gz, parse_idx).
torch::Tensor read_idx(const std::string& path);

}  // namespace gps
