// Opening a run directory for a training: a new one, or the one being
// continued (--resume), with the checkpoint to resume from; and finding the
// run `--resume auto` continues (trainer.h declares find_resumable_run,
// is_finished_run and changed_training_keys, defined with it in
// open_run.cpp).
#pragma once

#include "gps/config/config.h"
#include "gps/train/run_dir.h"
#include "gps/train/trainer.h"

#include <string>

namespace gps {

namespace dist {
class Group;
}

// The run directory of this training: a new one, or the one being continued,
// with the checkpoint to resume from ("" when none). Several processes:
// rank 0 decides, the others follow.
struct OpenedRun {
  RunDir run;
  std::string resume_from;
  bool resumed = false;  // config.yaml is the caller's to write, once the resumed state has loaded
};

// Writes config.yaml (a new run only), env.json and command.txt (appended on
// resume). Refuses, before writing anything, a resume whose training keys
// changed unless resume.force, and one whose checkpoint trained on other
// images than `data` (data_fingerprint). Several processes: rank 0 decides,
// the others follow its directory and checkpoint.
OpenedRun open_run(const Config& cfg, const std::string& command_line, const ResumeOptions& resume,
                   const std::string& data, dist::Group* group);

}  // namespace gps
