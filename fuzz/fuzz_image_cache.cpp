// libFuzzer harness: the decoded-image cache of the image-folder datasets
// (data/image_cache.h). The key, listed count, channels and side it is read
// against come from the input's own header, so that mutations get past the
// first checks and into the row table, the report strings and the CRC.
#include "fuzz_common.h"

#include "gps/data/image_cache.h"

#include <algorithm>
#include <cstring>

namespace {

int64_t header_i64(const uint8_t* data, size_t size, size_t at) {
  int64_t v = 0;
  if (at + 8 <= size) std::memcpy(&v, data + at, 8);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gps::fuzz::scratch_file(".bin");
  gps::fuzz::write_scratch(path, data, size);
  // Within what a caller can ask for: C is 1 or 3, S a modest side, listed a
  // count of files.
  const uint64_t key = uint64_t(header_i64(data, size, 8));
  const int64_t listed = std::clamp<int64_t>(header_i64(data, size, 16), 0, 1 << 20);
  const int64_t C = header_i64(data, size, 32) == 1 ? 1 : 3;
  const int64_t S = std::clamp<int64_t>(header_i64(data, size, 40), 1, 64);
  gps::fuzz::expect_clean([&] {
    gps::DecodedImages out;
    std::string why;
    if (gps::read_image_cache(path, key, listed, C, S, out, &why)) {
      // A cache that reads back must describe itself consistently.
      if (out.images.size(0) != int64_t(out.kept.size()) || int64_t(out.mean.size()) != C) std::abort();
    }
  });
  return 0;
}
