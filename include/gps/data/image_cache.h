// The on-disk cache of decoded image lists (see load_image_files).
//
// File `<dir>/images-<key as 16 hex digits>.bin`, all integers little-endian:
//   "GPSIMGC2"                 8-byte magic (the last byte is the version)
//   u64 key                    image_cache_key of the list and options
//   i64 listed, rows, C, S     files listed, rows stored, channels, side
//   i64 n_bad
//   f32 mean[C], std[C]        channel statistics of the rows (compute_channel_stats)
//   i64 kept[rows]             list index of each stored row
//   n_bad x (u32 length, bytes) "path: reason" of each undecodable file
//   u8 pixels[rows, C, S, S]
//   u32 crc                    CRC-32 (zlib) of every byte before it
// It is written to `<file>.tmp-<pid>` and renamed, so readers never see a
// half-written cache.
#pragma once

#include "gps/data/image_files.h"

#include <string>
#include <vector>

namespace gps {

// Hash of the cache format version, the pixel-changing options (size,
// channels, resize, crop_bottom) and each path with its byte size and
// modification time (nanoseconds). Throws gps::Error naming the file and
// `what` when a path does not exist or is not a regular file.
uint64_t image_cache_key(const std::vector<std::string>& paths, const ImageDecodeOptions& o, const std::string& what);

// `<dir>/images-<key as 16 hex digits>.bin`.
std::string image_cache_file(const std::string& dir, uint64_t key);

// Reads `file` into `out` (images, kept, bad, mean, std) when it exists and matches
// key, the listed count, C and S, and its length and CRC are right. Returns
// false with *why set otherwise (never throws for a bad file).
bool read_image_cache(const std::string& file, uint64_t key, int64_t listed, int64_t C, int64_t S,
                      DecodedImages& out, std::string* why);

// Writes `d` (images [rows, C, S, S] uint8 contiguous, kept, bad, mean and std
// of C values each) atomically.
// Creates the folder. Throws gps::Error naming the file when writing fails.
void write_image_cache(const std::string& file, uint64_t key, int64_t listed, const DecodedImages& d);

}  // namespace gps
