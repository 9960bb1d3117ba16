// Writing image stores (image_store.h): `gps data pack`.
//
// The pack writes <path>.partial and a progress log <path>.partial.progress,
// one line per chunk written and flushed to the disk. Only when every chunk,
// the tables and page 0 are on the disk is <path>.partial renamed to <path>:
// a killed pack leaves no file a run can open (open_store names the
// .partial). Packing the same input again with the same options resumes after
// the last chunk in the log; other options start over.
#pragma once

#include "gps/data/dataset.h"

#include <functional>
#include <string>

namespace gps {

struct PackOptions {
  std::string payload = "raw";  // raw: uint8 pixels | jpeg: JPEG files, decoded when read
  int64_t chunk_rows = 0;       // rows per chunk (0 = about kPackChunkBytes of raw pixels, at least 1)
  int64_t quality = 95;         // jpeg: libjpeg quality 1..100
  // jpeg of image files (folder, aircraft, rhid): 0 = encode the images as
  // the reader decodes them (data.image_size); M >= data.image_size = encode
  // each file shrunk to a shorter side of at most M, and resize it by
  // data.resize when it is read (so one pack serves several sizes' crops).
  int64_t max_side = 0;
  // -1: rows in the reader's order; >= 0: in a random order drawn from this
  // seed, so that data.order=quasi-random mixes classes even when the
  // reader lists them sorted by class (image folders).
  int64_t shuffle_seed = -1;
  std::string packed_from;      // recorded in the header (the config keys that name the input)
  // Called after each chunk with (rows written, rows in all).
  std::function<void(int64_t, int64_t)> on_chunk;
};

constexpr int64_t kPackChunkBytes = int64_t(4) << 20;

// Throws gps::Error naming the option.
void validate(const PackOptions& o);

struct PackResult {
  int64_t rows = 0, chunks = 0, bytes = 0;  // bytes: the store file
  int64_t resumed_chunks = 0;               // chunks kept from an earlier, killed pack
};

// Packs every row of `d` (read a chunk at a time through d.rows, so `d` may
// itself be a store) with its labels, statistics, name and split into the
// store `path` (its folder is created). Environment GPS_PACK_KILL_AFTER_CHUNKS=n
// kills the process (SIGKILL) once n chunks are logged: the fault tests' kill.
PackResult pack_store(const Dataset& d, const std::string& path, const PackOptions& o);

}  // namespace gps
