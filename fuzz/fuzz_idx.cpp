// libFuzzer harness: the IDX reader, raw and through the gzip path.
#include "fuzz_common.h"

#include "gps/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  gps::fuzz::expect_clean([&] { gps::parse_idx(bytes, "fuzz.idx"); });
  // Files go through read_file_maybe_gz: gzip members are detected by magic.
  const std::string path = gps::fuzz::scratch_file(".idx.gz");
  gps::fuzz::write_scratch(path, data, size);
  gps::fuzz::expect_clean([&] { gps::read_idx(path); });
  return 0;
}
