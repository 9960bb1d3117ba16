// optim.budget_minutes: the run's length, set from its measured speed so
// that the run ends within a wall-clock budget, its final evaluation
// included. One clock: the seconds a run spent before a resume, plus this
// process's seconds since it started (data, prior and table included), less
// the seconds of the kNN curve's evaluations (eval.knn_every), which a run
// without that curve would not spend.
//
// The first decision times steps [first, at) (a settle at both ends) and
// sets the length at `at`; after it, the length is set again at every epoch
// end at least 10 steps after the last decision, from the speed since then,
// so a machine whose speed drifts still ends on time. A checkpoint keeps
// the decided length and the seconds spent (LoopCounters::budget_steps,
// budget_spent_s), so a resumed run goes on with the time it has left.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>

namespace gps {

namespace dist {
class Group;
}

class Budget {
 public:
  using Clock = std::chrono::steady_clock;
  struct Plan {
    double minutes = 0;        // optim.budget_minutes (0: no budget)
    int64_t steps_per_epoch = 1;
    int64_t cap_steps = 0;     // optim.epochs' steps: never more
    int64_t warmup_steps = 0;
    int64_t batch = 1;         // the global batch
  };
  // `start`: when this process started (the run clock's zero); `spent_before`
  // and `decided_steps`: from the checkpoint resumed (0 for a new run);
  // `step`: the step the loop starts at.
  Budget(const Plan& plan, Clock::time_point start, double spent_before, int64_t decided_steps, int64_t step);

  bool enabled() const { return plan_.minutes > 0; }
  // The budget clock, in seconds.
  double now() const;
  // Seconds the run clock should not count (a kNN curve evaluation).
  void exclude(double seconds) { excluded_ += seconds; }

  // True when the loop should settle after `done` steps for the budget: the
  // ends of the first timed span, or an epoch end where it decides again.
  // `decided`: the length decided so far (0: none yet).
  bool due(int64_t done, int64_t decided, int64_t total_steps) const;

  struct Decision {
    bool made = false;        // false: the first timing started here
    int64_t total_steps = 0;  // the run's new length
    bool changed = false;     // ... differs from the one before
  };
  // At a due settle after `done` steps. `eval_images`: the images of the
  // final evaluation's forward passes (train + test; 0 without one), whose
  // time is reserved. With several processes, rank 0's decision is every
  // rank's. The record of the decision is info().
  Decision settle(int64_t done, int64_t decided, int64_t total_steps, double eval_images, dist::Group* group,
                  bool lead);

  // The "budget" object of metrics.jsonl and summary.json (null without a budget).
  const nlohmann::json& info() const { return info_; }
  int64_t decisions() const { return decisions_; }

 private:
  Plan plan_;
  Clock::time_point start_;
  double spent_before_ = 0, excluded_ = 0;
  bool redecide_ = false;       // a checkpoint that predates the clock keeps its decision
  int64_t first_ = 0, at_ = 0;  // the first decision's timed span [first_, at_)
  double t0_ = 0;               // the clock and the step of the last decision (or the timing's start)
  int64_t step0_ = 0, decisions_ = 0;
  nlohmann::json info_;
};

}  // namespace gps
