// Helpers the benchmark programs share.
#pragma once

#include <fstream>
#include <string>

namespace gps::bench {

// A line of /proc/self/status in MiB (VmHWM = peak resident set, VmRSS = now); -1 when absent.
inline double status_mib(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;  // kB
  return -1;
}

}  // namespace gps::bench
