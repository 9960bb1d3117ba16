// gps info: the environment a run's numbers depend on (versions, CPU and its
// flags, threads, BLAS, CUDA devices, process groups).
#include "commands.h"

#include "gps/core/check.h"
#include "gps/core/env_info.h"
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

// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_command(const std::string& word, const std::vector<std::string>& commands) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : commands) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best_d <= std::max<size_t>(2, word.size() / 3) ? best : "";
}

}  // namespace gps::cli
