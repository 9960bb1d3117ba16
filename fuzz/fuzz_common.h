// Shared by the libFuzzer harnesses: every input must either parse or throw
// gps::Error (a clear message); any other exception, a crash, a sanitizer
// report or a hang is a finding.
#pragma once

#include "gps/core/check.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

namespace gps::fuzz {

// Runs f; gps::Error is the expected outcome of bad input.
template <typename F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const gps::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception (not gps::Error): %s\n", e.what());
    std::abort();
  }
}

// A per-process scratch file on tmpfs for readers that take a path.
inline std::string scratch_file(const char* ext) {
  static const std::string dir = std::getenv("GPS_FUZZ_TMP") ? std::getenv("GPS_FUZZ_TMP") : "/dev/shm";
  return dir + "/gps-fuzz-" + std::to_string(::getpid()) + ext;
}

inline void write_scratch(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

}  // namespace gps::fuzz
