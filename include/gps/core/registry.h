// A name -> factory table that programs can extend (methods, backbones):
// built-in entries at construction, more with add(), safe across threads.
#pragma once

#include "gps/core/check.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace gps {

template <typename Factory>
class Registry {
 public:
  // `what`: the registering function's name, for errors ("register_method").
  Registry(std::string what, std::map<std::string, Factory> built_in)
      : what_(std::move(what)), makers_(std::move(built_in)) {}

  // Throws gps::Error for an empty name, an empty factory or a taken name.
  void add(const std::string& name, Factory make) {
    std::lock_guard<std::mutex> lock(m_);
    GPS_CHECK(!name.empty(), what_, ": a name is needed");
    GPS_CHECK(bool(make), what_, ": '", name, "': a factory is needed");
    GPS_CHECK(makers_.emplace(name, std::move(make)).second, what_, ": '", name, "' is already registered");
  }
  // The names, sorted.
  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(m_);
    std::vector<std::string> out;
    for (const auto& entry : makers_) out.push_back(entry.first);
    return out;
  }
  // "a | b | c" (or with another separator).
  std::string list(const char* sep = " | ") const {
    std::string out;
    for (const auto& n : names()) out += (out.empty() ? "" : sep) + n;
    return out;
  }
  // The factory of `name`, or an empty one.
  Factory find(const std::string& name) const {
    std::lock_guard<std::mutex> lock(m_);
    auto it = makers_.find(name);
    return it == makers_.end() ? Factory() : it->second;
  }

 private:
  std::string what_;
  mutable std::mutex m_;
  std::map<std::string, Factory> makers_;
};

}  // namespace gps
