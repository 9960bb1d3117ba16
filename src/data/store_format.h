// Private to src/data: the image store's page 0 and tables (image_store.h
// has the layout), shared by the reader (image_store.cpp) and the packer
// (store_pack.cpp).
#pragma once

#include "gps/data/image_files.h"
#include "gps/data/image_store.h"

#include <string>

namespace gps::store_format {

constexpr char kMagic[9] = "GPSSTOR1";

// Page 0 for `h`: magic, length, JSON, CRC; zero-padded to kStorePage bytes.
std::string encode_header(const StoreHeader& h);

// Parses page 0 of `path`; throws gps::Error naming `path` on a bad magic,
// length, CRC or field.
StoreHeader decode_header(const std::string& page, const std::string& path);

// The first multiple of kStorePage at or after `offset`.
inline int64_t page_align(int64_t offset) { return (offset + kStorePage - 1) / kStorePage * kStorePage; }

// Bytes of one raw row.
inline int64_t row_bytes(const StoreHeader& h) { return h.channels * h.height * h.width; }

// Row [C, H, W] uint8 as encoded JPEG (RGB rows are written as BGR, OpenCV's
// order); decode_jpeg_row undoes it into `out` ([C, H, W]), resizing by the
// policy `resize` when it is not "" (rows packed with --max-side). False with
// *why set when the bytes do not decode (or, without `resize`, not to [H, W]).
std::vector<unsigned char> encode_jpeg_row(const uint8_t* row, int64_t C, int64_t H, int64_t W, int quality);
bool decode_jpeg_row(const unsigned char* data, size_t size, int64_t C, int64_t H, int64_t W, uint8_t* out,
                     std::string* why, const std::string& resize);

// An image file as the JPEG a --max-side pack stores: read as `o` says
// (gray or colour), its bottom o.crop_bottom rows cut, shrunk (area
// interpolation) so that its shorter side is at most max_side. Throws
// gps::Error naming the file when it does not decode.
std::vector<unsigned char> encode_jpeg_file(const std::string& path, const ImageDecodeOptions& o, int64_t max_side,
                                            int quality);

}  // namespace gps::store_format
