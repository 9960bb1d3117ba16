#include "gps/experiment/grid.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gps {

namespace {

const std::set<std::string>& schema_keys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> s;
    for (const auto& k : config_schema()) s.insert(k.key);
    return s;
  }();
  return keys;
}

bool is_config_key(const std::string& key) { return schema_keys().count(key) > 0; }

std::string scalar_text(const YAML::Node& n, const std::string& what, const std::string& key) {
  GPS_CHECK(n.IsScalar() || n.IsNull(), what, ": ", key, ": expected a single value");
  return n.IsNull() ? "" : n.Scalar();
}

// Flattens nested maps into dotted config keys; `prefix` is prepended to
// keys that are not config keys by themselves (so `prior: [{kind: npy}]` means prior.kind).
void flatten_keys(const YAML::Node& node, const std::string& prefix, const std::string& what, KeyValues& out,
                  const std::set<std::string>& skip = {}) {
  GPS_CHECK(node.IsMap(), what, ": expected a mapping of config keys", prefix.empty() ? "" : " under '" + prefix + "'");
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (skip.count(k)) continue;
    std::string key = k;
    if (!is_config_key(key) && !prefix.empty()) key = prefix + "." + k;
    if (it->second.IsMap() && !is_config_key(key)) {
      flatten_keys(it->second, key, what, out);
      continue;
    }
    GPS_CHECK(is_config_key(key), what, ": unknown config key '", key, "'; `gps train --help` lists every key");
    out.emplace_back(key, scalar_text(it->second, what, key));
  }
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& what) {
  std::vector<std::string> out;
  if (n.IsScalar()) return {n.Scalar()};
  GPS_CHECK(n.IsSequence(), what, ": expected a key or a list of keys");
  for (const auto& e : n) out.push_back(scalar_text(e, what, "entry"));
  return out;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+') ? c : '_';
  return out.empty() ? "_" : out;
}

// Part of a cell id for one axis value.
std::string id_part(const GridAxis& axis, const GridValue& v) {
  if (axis.values.empty() || v.sets.size() != 1 || v.sets[0].first != axis.key) return sanitize(v.label);
  const std::string& key = axis.key;
  if (key == "gps") return v.label == "true" ? "gps" : "plain";
  if (key == "method.name" || key == "augment.preset" || key == "data.name") return sanitize(v.label);
  if (key == "train.seed") return "seed" + sanitize(v.label);
  return sanitize(key.substr(key.rfind('.') + 1) + v.label);
}

void set_all(Config& c, const KeyValues& kv, const std::string& what) {
  for (const auto& [k, v] : kv) {
    try {
      c.set(k, v);
    } catch (const Error& e) {
      GPS_FAIL(what, ": ", e.what());
    }
  }
}

GridAxis scalar_axis(const std::string& key, const std::vector<std::string>& values, const std::string& what) {
  GPS_CHECK(is_config_key(key), what, ": grid key '", key, "' is not a config key (a bundle axis needs a list of maps)");
  GPS_CHECK(!values.empty(), what, ": grid key '", key, "' has no values");
  GridAxis axis{key, {}};
  std::set<std::string> seen;
  for (const auto& raw : values) {
    std::string v;
    try {
      v = normalized_value(key, raw);
    } catch (const Error& e) {
      GPS_FAIL(what, ": grid: ", e.what());
    }
    GPS_CHECK(seen.insert(v).second, what, ": grid key '", key, "' lists the value ", v, " twice");
    axis.values.push_back({v, {{key, v}}});
  }
  return axis;
}

}  // namespace

std::string normalized_value(const std::string& key, const std::string& value) {
  Config c;
  c.set(key, value);
  return c.get(key);
}

ExperimentSpec parse_experiment(const std::string& text, const std::string& what,
                                const std::vector<std::string>& overrides, const std::string& default_name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    GPS_FAIL(what, ": invalid YAML: ", e.what());
  }
  GPS_CHECK(root.IsMap(), what, ": expected a mapping (a run config plus grid:, experiment:, per_method:, when:)");
  ExperimentSpec spec;
  spec.source = text;
  YAML::Node rest(YAML::NodeType::Map);
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    const YAML::Node& v = it->second;
    if (k == "experiment") {
      GPS_CHECK(v.IsMap(), what, ": experiment: expected a mapping");
      for (auto e = v.begin(); e != v.end(); ++e) {
        const std::string f = e->first.as<std::string>();
        if (f == "name") spec.name = scalar_text(e->second, what, "experiment.name");
        else if (f == "out_dir") spec.out_dir = scalar_text(e->second, what, "experiment.out_dir");
        else if (f == "average") spec.average = scalar_text(e->second, what, "experiment.average");
        else if (f == "rows") spec.rows = string_list(e->second, what + ": experiment.rows");
        else if (f == "columns") spec.columns = string_list(e->second, what + ": experiment.columns");
        else if (f == "select") spec.select = string_list(e->second, what + ": experiment.select");
        else GPS_FAIL(what, ": unknown key experiment.", f, " (expected name, out_dir, average, rows, columns, select)");
      }
    } else if (k == "grid") {
      GPS_CHECK(v.IsMap(), what, ": grid: expected a mapping of key -> list of values");
      for (auto g = v.begin(); g != v.end(); ++g) {
        const std::string key = g->first.as<std::string>();
        const YAML::Node& list = g->second;
        GPS_CHECK(list.IsSequence() && list.size() > 0, what, ": grid.", key, ": expected a non-empty list of values");
        for (const auto& a : spec.axes) GPS_CHECK(a.key != key, what, ": grid key '", key, "' appears twice");
        if (list[0].IsMap()) {  // a bundle axis: each value sets several keys
          GridAxis axis{key, {}};
          std::set<std::string> seen;
          for (const auto& item : list) {
            GPS_CHECK(item.IsMap(), what, ": grid.", key, ": mix of maps and single values; use maps throughout");
            GridValue gv;
            flatten_keys(item, key, what + ": grid." + key, gv.sets, {"label"});
            GPS_CHECK(!gv.sets.empty(), what, ": grid.", key, ": a value sets no key");
            for (auto& [sk, sv] : gv.sets) {
              try {
                sv = normalized_value(sk, sv);
              } catch (const Error& e) {
                GPS_FAIL(what, ": grid.", key, ": ", e.what());
              }
            }
            if (item["label"]) {
              gv.label = scalar_text(item["label"], what, "grid." + key + ".label");
            } else {
              for (const auto& [sk, sv] : gv.sets) gv.label += (gv.label.empty() ? "" : "-") + sv;
            }
            GPS_CHECK(seen.insert(gv.label).second, what, ": grid.", key, ": two values have the label '", gv.label,
                      "' (give each a distinct `label:`)");
            axis.values.push_back(std::move(gv));
          }
          spec.axes.push_back(std::move(axis));
        } else {
          std::vector<std::string> values;
          for (const auto& item : list) values.push_back(scalar_text(item, what, "grid." + key));
          spec.axes.push_back(scalar_axis(key, values, what));
        }
      }
    } else if (k == "per_method") {
      GPS_CHECK(v.IsMap(), what, ": per_method: expected a mapping of method name -> keys");
      for (auto m = v.begin(); m != v.end(); ++m) {
        const std::string method = m->first.as<std::string>();
        ConditionalSet c;
        try {
          c.when = {{"method.name", normalized_value("method.name", method)}};
        } catch (const Error& e) {
          GPS_FAIL(what, ": per_method: ", e.what());
        }
        flatten_keys(m->second, "", what + ": per_method." + method, c.set);
        spec.conditionals.push_back(std::move(c));
      }
    } else if (k == "when") {
      GPS_CHECK(v.IsSequence(), what, ": when: expected a list of {if: {...}, set: {...}}");
      for (const auto& item : v) {
        GPS_CHECK(item.IsMap() && item["if"] && item["set"] && item.size() == 2, what,
                  ": when: each entry needs exactly `if:` and `set:` mappings");
        ConditionalSet c;
        flatten_keys(item["if"], "", what + ": when.if", c.when);
        for (auto& [wk, wv] : c.when) {
          try {
            wv = normalized_value(wk, wv);
          } catch (const Error& e) {
            GPS_FAIL(what, ": when.if: ", e.what());
          }
        }
        flatten_keys(item["set"], "", what + ": when.set", c.set);
        spec.conditionals.push_back(std::move(c));
      }
    } else {
      rest[k] = v;
    }
  }
  YAML::Emitter em;
  em << rest;
  spec.base_yaml = em.c_str();
  spec.base.merge_yaml_text(spec.base_yaml, what);

  for (const auto& o : overrides) {
    const auto [key, value] = split_override(o);
    if (key.rfind("grid.", 0) == 0) {
      const std::string gk = key.substr(5);
      std::vector<std::string> values;
      std::stringstream ss(value);
      for (std::string item; std::getline(ss, item, ',');) values.push_back(item);
      GridAxis axis = scalar_axis(gk, values, "override " + o);
      bool replaced = false;
      for (auto& a : spec.axes)
        if (a.key == gk) a = axis, replaced = true;
      if (!replaced) spec.axes.push_back(std::move(axis));
    } else if (key == "experiment.name") {
      spec.name = value;
    } else if (key == "experiment.out_dir") {
      spec.out_dir = value;
    } else if (key == "experiment.average") {
      spec.average = value;
    } else {
      GPS_CHECK(key.rfind("experiment.", 0) != 0, "override '", o,
                "': experiment.name, experiment.out_dir and experiment.average can be overridden");
      for (const auto& a : spec.axes)
        for (const auto& gv : a.values)
          for (const auto& [sk, sv] : gv.sets)
            GPS_CHECK(sk != key, "override '", o, "': ", key, " is set by the grid axis '", a.key,
                      "'; change the axis with grid.", a.key, "=v1,v2 instead");
      Config probe;
      probe.set(key, value);  // names an unknown key or bad value now, not per cell
      spec.overrides.push_back(o);
    }
  }
  if (spec.name.empty()) spec.name = default_name;
  if (spec.out_dir.empty()) spec.out_dir = spec.base.train.out_dir;
  GPS_CHECK(!spec.axes.empty(), what, ": needs a `grid:` section with at least one key (e.g. gps: [false, true])");
  for (const auto& k : spec.select) {
    GPS_CHECK(std::any_of(spec.axes.begin(), spec.axes.end(), [&](const GridAxis& a) { return a.key == k; }), what,
              ": experiment.select: '", k, "' is not a grid key (it chooses among a grid key's values)");
    GPS_CHECK(k != spec.average, what, ": experiment.select: '", k, "' is also experiment.average");
    GPS_CHECK(std::find(spec.rows.begin(), spec.rows.end(), k) == spec.rows.end() &&
                  std::find(spec.columns.begin(), spec.columns.end(), k) == spec.columns.end(),
              what, ": experiment.select: '", k, "' is also a row or column key of the tables");
  }
  GPS_CHECK(spec.name.find('/') == std::string::npos && spec.name != "." && spec.name != "..",
            "experiment.name must be a plain folder name, got '", spec.name, "'");
  return spec;
}

ExperimentSpec load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_experiment(read_file(path, "experiment file"), path, overrides, std::filesystem::path(path).stem().string());
}

std::string experiment_dir(const ExperimentSpec& spec) {
  return (std::filesystem::path(spec.out_dir) / spec.name).string();
}

std::vector<GridCell> expand_grid(const ExperimentSpec& spec) {
  size_t total = 1;
  for (const auto& a : spec.axes) total *= a.values.size();
  const std::string cells_dir = (std::filesystem::path(experiment_dir(spec)) / "cells").string();
  std::vector<GridCell> cells;
  std::set<std::string> ids;
  for (size_t n = 0; n < total; ++n) {
    // Mixed-radix digits, the last axis varying fastest.
    std::vector<size_t> pick(spec.axes.size());
    size_t rest = n;
    for (size_t a = spec.axes.size(); a-- > 0;) {
      pick[a] = rest % spec.axes[a].values.size();
      rest /= spec.axes[a].values.size();
    }
    GridCell cell;
    for (size_t a = 0; a < spec.axes.size(); ++a) {
      const auto& gv = spec.axes[a].values[pick[a]];
      cell.labels.push_back(gv.label);
      cell.id += (a ? "-" : "") + id_part(spec.axes[a], gv);
    }
    const std::string what = "cell " + cell.id;
    // The cell's values without conditionals decide which conditionals apply.
    Config probe = spec.base;
    for (size_t a = 0; a < spec.axes.size(); ++a) set_all(probe, spec.axes[a].values[pick[a]].sets, what);
    probe.apply_overrides(spec.overrides);
    // The cell's method brings its reference recipe; the file, the
    // conditionals, the axes and the overrides win over it (load_config's order).
    Config c = spec.base;
    if (!spec.base_yaml.empty()) {  // a spec from parse_experiment (one built in code has only `base`)
      c = Config();
      apply_method_recipe(c, probe.method.name);
      c.merge_yaml_text(spec.base_yaml, what);
    }
    for (const auto& cond : spec.conditionals) {
      bool match = true;
      for (const auto& [k, v] : cond.when) match = match && probe.get(k) == v;
      if (match) set_all(c, cond.set, what);
    }
    for (size_t a = 0; a < spec.axes.size(); ++a) set_all(c, spec.axes[a].values[pick[a]].sets, what);
    c.apply_overrides(spec.overrides);
    c.train.out_dir = cells_dir;
    c.train.name = cell.id;
    try {
      c.validate();
    } catch (const Error& e) {
      GPS_FAIL(what, ": ", e.what());
    }
    GPS_CHECK(ids.insert(cell.id).second, "two grid cells get the id '", cell.id,
              "'; give bundle values distinct labels");
    cell.config = std::move(c);
    cells.push_back(std::move(cell));
  }
  return cells;
}

}  // namespace gps
