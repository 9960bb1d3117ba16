// The config keys' schema, private to config/: each key's name, type, help
// and how it is read and written, in the order of `gps train --help` and
// config.yaml. One list per section (config_fields.cpp).
#pragma once

#include "gps/config/config.h"

#include <functional>
#include <string>
#include <vector>

namespace gps::config_detail {

struct Field {
  std::string key, type, help;
  std::function<void(Config&, const std::string&)> set;
  std::function<std::string(const Config&)> get;
  bool training = true;  // changes what a run computes; false: may change on --resume (see ConfigKeyInfo)
};

// Every key, section by section (data, prior, neighbors, augment, model,
// method, optim, train, eval).
const std::vector<Field>& fields();
// The key's field, or nullptr.
const Field* find_field(const std::string& key);

}  // namespace gps::config_detail
