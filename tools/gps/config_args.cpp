#include "commands.h"

#include "gps/config/config.h"
#include "gps/methods/recipes.h"
#include "gps/train/trainer.h"

#include <cstdio>

namespace gps::cli {

void add_config_args(CLI::App* app, ConfigArgs& args) {
  app->add_option("-c,--config", args.config_path, "YAML config file (see configs/)")->check(CLI::ExistingFile);
  app->add_option("overrides", args.overrides, "config overrides key.sub=value, applied after the file");
  app->footer(config_help());
}

void add_check_flags(CLI::App* app, ConfigArgs& args) {
  app->add_flag("--check", args.check,
                "resolve (recipes, presets, auto devices) and validate the config, then exit; writes nothing");
  app->add_flag("--print-config", args.print_config,
                "print the config as the run would use it (YAML), then exit; writes nothing");
}

bool check_only(const ConfigArgs& args, const std::vector<Config>& configs) {
  if (!args.check && !args.print_config) return false;
  std::vector<Config> resolved;
  for (const auto& c : configs) resolved.push_back(resolved_config(c));
  if (args.print_config) std::printf("%s", resolved.front().to_yaml().c_str());
  if (args.check)
    std::printf("config OK%s%s: %s%s, %s, %s on %s\n", args.config_path.empty() ? "" : " (",
                args.config_path.empty() ? "" : (args.config_path + ")").c_str(), resolved.front().method.name.c_str(),
                resolved.front().gps ? " + GPS" : "", resolved.front().augment.preset.c_str(),
                resolved.front().train.precision.c_str(), resolved.front().train.device.c_str());
  return true;
}

std::string config_help() {
  std::string s = "\nConfig keys (YAML or key=value overrides; default in brackets):\n";
  for (const auto& k : config_schema()) {
    char buf[512];
    std::snprintf(buf, sizeof(buf), "  %-26s %-22s [%s] %s\n", k.key.c_str(), k.type.c_str(),
                  k.default_value.c_str(), k.help.c_str());
    s += buf;
  }
  s += "\nPer-method defaults: each method's reference recipe (aarashfeizi/gps-ssl\n"
       "scripts/pretrain/cifar10/<file>, solo-learn's), applied before the config file\n"
       "and the overrides, which win; augment.preset=strong means the preset named here:\n";
  for (const auto& r : method_recipes()) {
    s += "  " + r.method + " (" + r.source + "): strong = " + r.strong_preset + "\n   ";
    size_t col = 3;
    for (const auto& [key, value] : r.keys) {
      const std::string kv = " " + key + "=" + value;
      if (col + kv.size() > 100) s += "\n   ", col = 3;
      s += kv;
      col += kv.size();
    }
    s += "\n";
  }
  return s;
}

}  // namespace gps::cli
