// libFuzzer harness: CIFAR-10 and CIFAR-100 binary records.
#include "fuzz_common.h"

#include "gps/data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gps::fuzz::scratch_file(".bin");
  gps::fuzz::write_scratch(path, data, size);
  torch::Tensor images, labels;
  gps::CifarFormat c10;
  gps::fuzz::expect_clean([&] { gps::read_cifar_files({path}, c10, images, labels); });
  gps::CifarFormat c100;
  c100.label_bytes = 2;
  c100.label_index = 1;
  c100.num_classes = 100;
  gps::fuzz::expect_clean([&] { gps::read_cifar_files({path, path}, c100, images, labels); });
  return 0;
}
