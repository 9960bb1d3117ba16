// gps info: the environment a run's numbers depend on (versions, CPU and its
// flags, threads, BLAS, CUDA devices, process groups).
#include "commands.h"

#include "gps/core/check.h"
#include "gps/core/env_info.h"
#include "gps/core/suggest.h"
#include "gps/core/threads.h"
#include "gps/io/plugins.h"

#include <cstdio>

namespace gps::cli {

Runner add_info(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  app.add_flag("--json", *json, "print JSON (the content of a run directory's env.json)");
  app.add_option("--threads", *threads, "torch threads to report, as train.threads (0 = all cores)")->capture_default_str();
  return [json, threads]() {
    set_threads(*threads);
    auto env = environment_info();
    // The OpenCV plugins this installation can load (gps/io/plugins.h).
    for (const char* p : {"imgcodecs", "onnx"}) env["plugins"][p] = plugins::location(p);
    if (*json) {
      std::printf("%s\n", env.dump(2).c_str());
      return 0;
    }
    std::printf("%s", format_environment(env).c_str());
    std::string line;
    for (const char* p : {"imgcodecs", "onnx"}) {
      const std::string where = env["plugins"][p];
      line += str_cat(line.empty() ? "" : "; ", p, " ", where.empty() ? "missing (image folders / ONNX priors unavailable)" : where);
    }
    std::printf("%-13s %s\n", "plugins", line.c_str());
    return 0;
  };
}

std::string closest_command(const std::string& word, const std::vector<std::string>& commands) {
  const auto near = nearest_names(word, commands);
  return near.empty() ? "" : near.front();
}

}  // namespace gps::cli
