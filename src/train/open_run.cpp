#include "gps/train/open_run.h"

#include "gps/core/check.h"
#include "gps/core/env_info.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/run_reader.h"
#include "gps/train/checkpoint.h"
#include "gps/train/run_summary.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace gps {

namespace {

std::string default_run_name(const Config& cfg) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", std::localtime(&now));
  return str_cat(cfg.method.name, "-", cfg.gps ? "gps" : "plain", "-", cfg.augment.preset, "-", ts);
}

}  // namespace

// The run's finished state: a summary that does not say "interrupted".
bool is_finished_run(const std::string& run_dir) {
  const auto summary = find_run_summary(run_dir);
  return summary && !summary->interrupted;
}


std::vector<std::string> changed_training_keys(const Config& saved, const Config& now) {
  std::vector<std::string> out;
  for (const auto& info : config_schema())
    if (info.training && saved.get(info.key) != now.get(info.key)) out.push_back(info.key);
  return out;
}

std::string find_resumable_run(const Config& cfg) {
  namespace fs = std::filesystem;
  if (!cfg.train.name.empty()) {
    const fs::path p = fs::path(cfg.train.out_dir) / cfg.train.name;
    return fs::is_directory(p) ? p.string() : "";
  }
  if (!fs::is_directory(cfg.train.out_dir)) return "";
  std::string best;
  fs::file_time_type best_time{};
  for (const auto& e : fs::directory_iterator(cfg.train.out_dir)) {
    if (!e.is_directory() || !fs::exists(e.path() / "LATEST") || !RunReader::is_run(e.path().string())) continue;
    Config saved;
    try {
      if (is_finished_run(e.path().string())) continue;
      saved.merge_yaml_file(RunReader(e.path().string(), "--resume auto").config_path());
    } catch (const Error&) {
      continue;  // a run of another version, a damaged config or summary: not ours to continue
    }
    if (!changed_training_keys(saved, cfg).empty()) continue;
    const auto t = fs::last_write_time(e.path() / "LATEST");
    if (best.empty() || t > best_time) best = e.path().string(), best_time = t;
  }
  return best;
}

OpenedRun open_run(const Config& cfg, const std::string& command_line, const ResumeOptions& resume,
                   const std::string& data, dist::Group* group) {
  namespace fs = std::filesystem;
  const bool lead = !group || group->lead();
  OpenedRun o;
  if (!resume.run_dir.empty()) {
    const RunReader reader(resume.run_dir, "--resume");
    const std::string saved_cfg = reader.config_path();
    Config saved;
    saved.merge_yaml_file(saved_cfg);
    const auto changed = changed_training_keys(saved, cfg);
    if (!changed.empty()) {
      std::string list;
      for (const auto& k : changed) list += str_cat("\n  ", k, ": run has ", saved.get(k), ", now ", cfg.get(k));
      GPS_CHECK(resume.force, "--resume: the config differs from ", saved_cfg, " in keys that change training:", list,
                "\n---> HINT: resume with the run's own config (gps train --resume ", resume.run_dir,
                "), or pass --force to continue anyway");
      std::fprintf(stderr, "[gps] warning: continuing %s with changed keys (--force):%s\n", resume.run_dir.c_str(),
                   list.c_str());
    }
    o.resume_from = reader.latest();
    int64_t resume_step = 0;
    if (!o.resume_from.empty()) {  // the step first, so that metrics past it are dropped before any new record
      auto archive = read_checkpoint_archive(o.resume_from, torch::kCPU);
      resume_step = read_counters(archive, o.resume_from).step;
      const std::string trained_on = read_string_entry(archive, "data_fingerprint");
      GPS_CHECK(trained_on.empty() || trained_on == data, "--resume: ", o.resume_from, " trained on other images: ",
                trained_on, ", but data.* (", cfg.data.name, " at ", cfg.data.root, ") now gives ", data,
                "; the run was left as it was\n---> HINT: resume with the data it trained on, or start a new run "
                "(gps train -c CONFIG, without --resume)");
    }
    o.resumed = true;
    if (lead) {
      o.run = RunDir::open(resume.run_dir, resume_step);
      std::fprintf(stderr, "[gps] continuing %s from %s\n", o.run.path().c_str(),
                   o.resume_from.empty() ? "the start (no checkpoint yet)" : o.resume_from.c_str());
      std::ofstream(o.run.file("command.txt"), std::ios::app) << command_line << "\n";
    }
  } else if (lead) {
    o.run = RunDir::create(cfg.train.out_dir, cfg.train.name.empty() ? default_run_name(cfg) : cfg.train.name);
    o.run.write_text("command.txt", command_line + "\n");
  }
  if (group) {  // the other ranks follow rank 0's run directory and checkpoint
    o.resume_from = group->share_string("resume_from", o.resume_from);
    const std::string path = group->share_string("run_dir", o.run.path());
    if (!lead) o.run = RunDir::follow(path);
  }
  if (!o.resumed) o.run.write_text("config.yaml", cfg.to_yaml());
  o.run.write_json("env.json", environment_info());  // what the numbers depend on: versions, CPU, threads, GPU
  return o;
}

}  // namespace gps
