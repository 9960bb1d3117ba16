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
};

// Writes config.yaml, env.json and command.txt (appended on resume); refuses
// a resume whose training keys changed unless resume.force. Several
// processes: rank 0 decides, the others follow its directory and checkpoint.
OpenedRun open_run(const Config& cfg, const std::string& command_line, const ResumeOptions& resume, dist::Group* group);

}  // namespace gps
