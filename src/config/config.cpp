#include "gps/config/config.h"

#include "config_fields.h"
#include "gps/methods/method.h"
#include "gps/methods/recipes.h"
#include "gps/models/backbone.h"

#include "gps/core/check.h"
#include "gps/core/suggest.h"
#include "gps/io/fs.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace gps {

namespace {

using config_detail::Field;
using config_detail::fields;
using config_detail::find_field;

void flatten(const YAML::Node& node, const std::string& prefix, std::vector<std::pair<std::string, YAML::Node>>& out,
             const std::string& what) {
  GPS_CHECK(node.IsMap(), what, ": expected a mapping of keys", prefix.empty() ? "" : " under '" + prefix + "'");
  for (auto it = node.begin(); it != node.end(); ++it) {
    // A key that is itself a list or mapping ("[a, b]: 1") is not a config key (found by fuzzing).
    GPS_CHECK(it->first.IsScalar(), what, ": expected plain key names", prefix.empty() ? "" : " under '" + prefix + "'",
              ", got a ", it->first.IsMap() ? "mapping" : it->first.IsSequence() ? "list" : "null", " as a key");
    const std::string k = it->first.Scalar();
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (it->second.IsMap() && !find_field(key))
      flatten(it->second, key, out, what);
    else
      out.emplace_back(key, it->second);
  }
}

}  // namespace

void Config::set(const std::string& key, const std::string& value) {
  const Field* f = find_field(key);
  if (!f) {
    // Suggest the keys a typo away, else keys that end in the same component
    // ("k" -> neighbors.k).
    std::vector<std::string> keys, same_tail;
    const auto tail = key.substr(key.rfind('.') + 1);
    for (auto& g : fields()) {
      keys.push_back(g.key);
      if (g.key.size() >= tail.size() && g.key.compare(g.key.size() - tail.size(), tail.size(), tail) == 0)
        same_tail.push_back(g.key);
    }
    // A bare component ("k") is too short for edit distance to mean much.
    std::string hint = key.find('.') == std::string::npos ? "" : did_you_mean(key, keys);
    if (hint.empty() && !same_tail.empty()) {
      hint = " (did you mean";
      for (const auto& k : same_tail) hint += " " + k;
      hint += "?)";
    }
    GPS_FAIL("unknown config key '", key, "'", hint, "; `gps train --help` lists every key");
  }
  f->set(*this, value);
}

std::string Config::get(const std::string& key) const {
  const Field* f = find_field(key);
  GPS_CHECK(f, "unknown config key '", key, "'");
  return f->get(*this);
}

void Config::merge_yaml_text(const std::string& text, const std::string& what) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    GPS_FAIL(what, ": invalid YAML: ", e.what());
  }
  if (root.IsNull()) return;
  std::vector<std::pair<std::string, YAML::Node>> kv;
  flatten(root, "", kv, what);
  for (auto& [key, node] : kv) {
    GPS_CHECK(node.IsScalar() || node.IsNull(), what, ": ", key, ": expected a single value");
    try {
      set(key, node.IsNull() ? "" : node.Scalar());
    } catch (const Error& e) {
      GPS_FAIL(what, ": ", e.what());
    }
  }
}

void Config::merge_yaml_file(const std::string& path) {
  merge_yaml_text(read_file(path, "config file"), path);
}

std::pair<std::string, std::string> split_override(const std::string& o) {
  const auto eq = o.find('=');
  GPS_CHECK(eq != std::string::npos && eq > 0, "override '", o, "': expected key=value (e.g. optim.lr=0.1)");
  return {o.substr(0, eq), o.substr(eq + 1)};
}

void Config::apply_overrides(const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    const auto [key, value] = split_override(o);
    set(key, value);
  }
}

void Config::validate() const {
  gps::validate(data);
  gps::validate(prior);
  gps::validate(neighbors);
  gps::validate(augment_for(*this));
  gps::validate(optim);
  gps::validate(eval);
  {
    // The registries', so that a registered backbone or method is valid here.
    auto check_registered = [](const char* key, const std::string& v, const std::vector<std::string>& names) {
      if (std::find(names.begin(), names.end(), v) != names.end()) return;
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : " | ") + n;
      GPS_FAIL(key, ": unknown ", std::string(key) == "model.arch" ? "backbone" : "method", " '", v, "'",
               did_you_mean(v, names), " (expected ", list, ")");
    };
    check_registered("model.arch", model.arch, backbone_names());
    check_registered("method.name", method.name, method_names());
  }
  {
    const std::string& d = train.device;
    const bool cuda_n = d.rfind("cuda:", 0) == 0 && d.size() > 5 &&
                        d.find_first_not_of("0123456789", 5) == std::string::npos;
    GPS_CHECK(d == "auto" || d == "cpu" || d == "cuda" || cuda_n, "train.device: expected auto, cpu, cuda or cuda:N, got '",
              d, "'", did_you_mean(d, {"auto", "cpu", "cuda", "cuda:0"}));
  }
  // Across modules.
  GPS_CHECK(gps || neighbors.refresh_every == 0, "neighbors.refresh_every needs gps=true (plain SSL has no table)");
  if (method.name == "nnclr")
    GPS_CHECK(method.queue_size > 0 && method.queue_size % optim.batch_size == 0, "method.queue_size (",
              method.queue_size, ") must be a positive multiple of optim.batch_size (", optim.batch_size, ") for nnclr");
  if (method.name == "swav")  // the queue shifts by a global batch at every step
    GPS_CHECK(method.queue_size == 0 || method.queue_size >= optim.batch_size, "method.queue_size (",
              method.queue_size, ") must be 0 (no queue) or at least optim.batch_size (", optim.batch_size,
              ") for swav");
}

std::string Config::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string section;
  for (auto& f : fields()) {
    const auto dot = f.key.find('.');
    const std::string sec = dot == std::string::npos ? "" : f.key.substr(0, dot);
    if (sec != section) {
      if (!section.empty()) out << YAML::EndMap;
      section = sec;
      if (!section.empty()) out << YAML::Key << section << YAML::Value << YAML::BeginMap;
    }
    const std::string leaf = dot == std::string::npos ? f.key : f.key.substr(dot + 1);
    const std::string v = f.get(*this);
    out << YAML::Key << leaf << YAML::Value;
    if (f.type == "string" || f.type.find('|') != std::string::npos)
      out << YAML::DoubleQuoted << v;
    else
      out << v;
  }
  if (!section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::vector<ConfigKeyInfo> config_schema() {
  Config defaults;
  std::vector<ConfigKeyInfo> out;
  for (auto& f : fields()) out.push_back({f.key, f.type, f.get(defaults), f.help, f.training});
  return out;
}

void apply_method_recipe(Config& c, const std::string& method) {
  if (const MethodRecipe* r = find_method_recipe(method))
    for (const auto& [key, value] : r->keys) c.set(key, value);
}

AugmentConfig augment_for(const Config& c) {
  AugmentConfig a = c.augment;
  if (a.preset == "strong") a.preset = strong_preset_for(c.method.name);
  return a;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  const std::string text = path.empty() ? "" : read_file(path, "config file");
  Config probe;  // which method the file and overrides name
  probe.merge_yaml_text(text, path);
  probe.apply_overrides(overrides);
  Config c;
  apply_method_recipe(c, probe.method.name);
  c.merge_yaml_text(text, path);
  c.apply_overrides(overrides);
  c.validate();
  return c;
}

}  // namespace gps
