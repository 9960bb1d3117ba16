// Error reporting for gps-ssl: every failure a user can cause (bad files,
// bad options, wrong shapes) throws gps::Error with a message that names the
// file or option and says what was expected.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gps {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Concatenates its arguments with operator<< into one string.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

// `v` as 16 lower-case hex digits (cache keys and file names).
std::string hex64(uint64_t v);

}  // namespace gps

// GPS_CHECK(cond, "expected ", a, " got ", b): throws gps::Error when cond is false.
#define GPS_CHECK(cond, ...)                                  \
  do {                                                        \
    if (!(cond)) throw ::gps::Error(::gps::str_cat(__VA_ARGS__)); \
  } while (0)

#define GPS_FAIL(...) throw ::gps::Error(::gps::str_cat(__VA_ARGS__))
