#include "gps/train/run_summary.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"

#include <cmath>
#include <filesystem>

namespace gps {

namespace {

constexpr double kMiB = double(1 << 20);

}  // namespace

nlohmann::json RunSummary::to_json() const {
  nlohmann::json j = {{"method", method},
                      {"gps", gps},
                      {"device", device},
                      {"precision", precision},
                      {"channels_last", channels_last},
                      {"steps", steps},
                      {"interrupted", interrupted},
                      {"train_seconds", train_seconds},
                      {"images_per_second", images_per_second},
                      {"data_wait_seconds", data_wait_seconds},
                      {"prefetch", prefetch},
                      {"final_loss", final_loss},
                      {"online_probe_train_top1", online_probe_train_top1},
                      {"online_probe_test_top1", online_probe_test_top1},
                      {"table", {{"fingerprint", table.fingerprint}, {"dir", table.dir},
                                 {"reused", table.reused}, {"seconds", table.seconds}, {"search", table.search}}}};
  if (cuda)
    j["gpu_memory_mib"] = {{"peak_allocated", double(gpu_peak_allocated) / kMiB},
                           {"peak_reserved", double(gpu_peak_reserved) / kMiB}};
  if (eval.done) j["eval"] = eval.to_json();
  if (!budget.is_null()) j["budget"] = budget;
  if (eval_seconds >= 0) j["eval_seconds"] = eval_seconds;
  j["run_seconds"] = run_seconds;
  return j;
}

RunSummary RunSummary::from_json(const nlohmann::json& j, const std::string& file) {
  GPS_CHECK(j.is_object(), file, ": not a JSON object");
  RunSummary s;
  try {
    s.method = j.value("method", s.method);
    s.gps = j.value("gps", s.gps);
    s.device = j.value("device", s.device);
    s.precision = j.value("precision", s.precision);
    s.channels_last = j.value("channels_last", s.channels_last);
    s.steps = j.value("steps", s.steps);
    s.interrupted = j.value("interrupted", s.interrupted);
    s.train_seconds = j.value("train_seconds", s.train_seconds);
    s.images_per_second = j.value("images_per_second", s.images_per_second);
    s.data_wait_seconds = j.value("data_wait_seconds", s.data_wait_seconds);
    s.prefetch = j.value("prefetch", s.prefetch);
    s.final_loss = j.value("final_loss", s.final_loss);
    // "online_probe_top1": the training-view figure's name before the held-out one existed.
    s.online_probe_train_top1 = j.value("online_probe_train_top1", j.value("online_probe_top1", -1.0));
    s.online_probe_test_top1 = j.value("online_probe_test_top1", s.online_probe_test_top1);
    if (j.contains("table")) {
      const auto& t = j.at("table");
      s.table.fingerprint = t.value("fingerprint", "");
      s.table.dir = t.value("dir", "");
      s.table.reused = t.value("reused", false);
      s.table.seconds = t.value("seconds", 0.0);
      s.table.search = t.value("search", "");
    }
    if (j.contains("gpu_memory_mib")) {
      s.cuda = true;
      s.gpu_peak_allocated = int64_t(std::llround(j.at("gpu_memory_mib").value("peak_allocated", 0.0) * kMiB));
      s.gpu_peak_reserved = int64_t(std::llround(j.at("gpu_memory_mib").value("peak_reserved", 0.0) * kMiB));
    }
    s.budget = j.value("budget", nlohmann::json());
    s.eval_seconds = j.value("eval_seconds", s.eval_seconds);
    s.run_seconds = j.value("run_seconds", s.run_seconds);
  } catch (const nlohmann::json::exception& e) {
    GPS_FAIL(file, ": a value of the wrong type: ", e.what());
  }
  if (j.contains("eval")) s.eval = EvalResult::from_json(j.at("eval"), file);
  return s;
}

RunSummary read_run_summary(const std::string& path) {
  const auto j = nlohmann::json::parse(read_file(path, "the run's summary"), nullptr, false);
  GPS_CHECK(!j.is_discarded(), path, ": not valid JSON (a damaged run summary)");
  return RunSummary::from_json(j, path);
}

std::optional<RunSummary> find_run_summary(const std::string& run_dir) {
  const std::string path = (std::filesystem::path(run_dir) / "summary.json").string();
  if (!std::filesystem::exists(path)) return std::nullopt;
  return read_run_summary(path);
}

}  // namespace gps
