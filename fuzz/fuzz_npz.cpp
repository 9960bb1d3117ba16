// libFuzzer harness: the .npz reader (zip container + .npy members).
#include "fuzz_common.h"

#include "gps/io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gps::fuzz::scratch_file(".npz");
  gps::fuzz::write_scratch(path, data, size);
  gps::fuzz::expect_clean([&] { gps::load_npz(path); });
  gps::fuzz::expect_clean([&] { gps::load_npz(path, {"train_images", "train_labels"}); });
  return 0;
}
