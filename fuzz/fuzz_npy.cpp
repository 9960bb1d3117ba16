// libFuzzer harness: the .npy parser.
#include "fuzz_common.h"

#include "gps/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  gps::fuzz::expect_clean([&] { gps::parse_npy(bytes, "fuzz.npy"); });
  return 0;
}
