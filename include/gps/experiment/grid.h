// An experiment grid: one base config plus axes of values (methods x plain/GPS
// x augmentation presets x priors x seeds x hyperparameters), expanded into
// one fully resolved config per cell.
//
// The YAML file is a normal run config plus three optional sections:
//   experiment: {name: fmnist-table2, out_dir: runs, average: train.seed,
//                rows: [method.name], columns: [augment.preset, gps]}
//   grid:                                   # key -> list of values (all combinations)
//     method.name: [simclr, byol]
//     gps: [false, true]
//     prior: [{label: pixels, kind: pixels}, {label: clip, kind: npy, path: clip.npy}]  # bundles
//   per_method:                             # keys set when method.name has that value
//     byol: {optim.name: lars, optim.lr: 1.0}
//   when:                                   # general form: keys set when all `if` keys match
//     - {if: {augment.preset: strong}, set: {optim.lr: 0.3}}
// A cell's config is: base file, then the matching per_method / when blocks
// (in file order), then the cell's grid values, then command-line overrides.
#pragma once

#include "gps/config/config.h"

#include <string>
#include <utility>
#include <vector>

namespace gps {

using KeyValues = std::vector<std::pair<std::string, std::string>>;  // config key -> value text

// One value of an axis: the label shown in cell ids and tables, and the keys it sets.
struct GridValue {
  std::string label;
  KeyValues sets;
};

struct GridAxis {
  std::string key;                 // a config key ("optim.lr"), or a bundle name ("prior")
  std::vector<GridValue> values;   // at least one; labels distinct
};

struct ConditionalSet {
  KeyValues when;                  // all must equal the cell's values (compared in normalised form)
  KeyValues set;
};

struct ExperimentSpec {
  std::string name;                // experiment.name (default: the file's stem)
  std::string out_dir;             // experiment.out_dir (default: the base train.out_dir)
  std::string average = "train.seed";  // axis averaged over in the tables (mean ± std)
  std::vector<std::string> rows = {"method.name"};              // table rows
  std::vector<std::string> columns = {"augment.preset", "gps"}; // table columns
  // Grid keys to choose the best value of per row, on validation top-1
  // (selection.h); empty: no selection, every cell shown.
  std::vector<std::string> select;
  Config base;                     // the file's run keys (not validated alone)
  std::string base_yaml;           // the same as YAML text: each cell applies it over its method's recipe
  std::vector<GridAxis> axes;
  std::vector<ConditionalSet> conditionals;
  std::vector<std::string> overrides;  // command-line key=value, applied to every cell last
  std::string source;              // the file's text, kept in the experiment folder
};

// A resolved, validated cell: train.out_dir = <experiment dir>/cells,
// train.name = id.
struct GridCell {
  std::string id;                  // e.g. "simclr-gps-weak-seed0"
  std::vector<std::string> labels; // one per axis, in spec.axes order
  Config config;
};

// Reads an experiment file. `overrides` are key=value strings: grid.<key>=a,b,c
// replaces (or adds) a scalar axis, experiment.<field>=v sets a field of the
// experiment section, anything else is a config override applied to every
// cell (it may not name a grid key). Throws gps::Error naming the file and key.
ExperimentSpec load_experiment(const std::string& path, const std::vector<std::string>& overrides);
// The same from text; `what` names the source in errors, `default_name` is
// the experiment's name when neither the text nor an override gives one.
ExperimentSpec parse_experiment(const std::string& yaml_text, const std::string& what,
                                const std::vector<std::string>& overrides,
                                const std::string& default_name = "experiment");

// <out_dir>/<name>.
std::string experiment_dir(const ExperimentSpec& spec);

// All combinations of the axes, the first axis varying slowest. Every cell's
// config is validated; an error names the cell. Throws when two cells get the same id.
std::vector<GridCell> expand_grid(const ExperimentSpec& spec);

// The value of `key` for a config, normalised through the schema ("1.0" -> "1").
std::string normalized_value(const std::string& key, const std::string& value);

}  // namespace gps
