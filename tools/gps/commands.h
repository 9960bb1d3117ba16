// Subcommands of the `gps` CLI. Each registers its options on a CLI11 app
// and returns the function that runs it; main only parses and dispatches.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace gps::cli {

using Runner = std::function<int()>;

// Options every config-driven command shares: -c/--config FILE and key=value overrides.
struct ConfigArgs {
  std::string config_path;
  std::vector<std::string> overrides;
};
void add_config_args(CLI::App* app, ConfigArgs& args);
// Text listing every config key, type, default and help (for --help footers).
std::string config_help();

Runner add_train(CLI::App& app, std::string& command_line);
Runner add_compare(CLI::App& app, std::string& command_line);
Runner add_experiment(CLI::App& app, std::string& command_line);
Runner add_neighbors(CLI::App& app);
Runner add_embed(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_augment_grid(CLI::App& app);
Runner add_batch(CLI::App& app);
Runner add_prior_report(CLI::App& app);
Runner add_export(CLI::App& app);
Runner add_launch(CLI::App& app);
Runner add_info(CLI::App& app);
Runner add_data(CLI::App& app);

// The command of `commands` closest to a mistyped `word` ("" when none is close).
std::string closest_command(const std::string& word, const std::vector<std::string>& commands);

}  // namespace gps::cli
