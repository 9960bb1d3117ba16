// libFuzzer harness: YAML configs and dotted overrides.
#include "fuzz_common.h"

#include "gps/config/config.h"

#include <sstream>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gps::fuzz::expect_clean([&] {
    gps::Config c;
    c.merge_yaml_text(text, "fuzz.yaml");
    c.validate();
    c.to_yaml();
  });
  // The same bytes as command-line overrides, one per line.
  gps::fuzz::expect_clean([&] {
    std::vector<std::string> overrides;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) overrides.push_back(line);
    gps::Config c;
    c.apply_overrides(overrides);
    c.validate();
  });
  return 0;
}
