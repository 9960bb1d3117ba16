// Each method's reference recipe: the optimiser, learning rate, weight
// decay, head widths and method keys of the reference's CIFAR-10 config
// (the GPS-SSL code, aarashfeizi/gps-ssl scripts/pretrain/cifar10/<method>.yaml,
// which are solo-learn's), and the augmentation that config uses, which is
// what augment.preset=strong means for the method (the paper's StrongAug).
//
// load_config (config/config.h) applies a recipe's keys before the config
// file and the overrides, so a file or override always wins. A method with
// no recipe keeps the struct defaults. docs/reference-behaviour.md §2 cites
// the sources; `gps train --help` prints the table.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gps {

struct MethodRecipe {
  std::string method;         // method.name
  std::string strong_preset;  // the augment preset its reference config uses
  std::vector<std::pair<std::string, std::string>> keys;  // config key, value (text, as in an override)
  std::string source;         // the reference file
};

// Every built-in method's recipe, in the method registry's order.
const std::vector<MethodRecipe>& method_recipes();

// The recipe of `method`, or nullptr (a method registered by a user).
const MethodRecipe* find_method_recipe(const std::string& method);

// The preset augment.preset=strong stands for with `method`: its recipe's
// strong_preset, "symmetric" without one (SimCLR's StrongAug).
std::string strong_preset_for(const std::string& method);

}  // namespace gps
