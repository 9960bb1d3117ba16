// Learning-rate schedules, stepped every iteration.
#pragma once

#include <cstdint>

namespace gps {

// Linear warm-up from start_lr to base_lr over warmup_steps, then cosine
// from base_lr to min_lr at total_steps (solo-learn's LinearWarmupCosineAnnealingLR
// stepped per iteration). step in [0, total_steps]; clamps beyond.
double warmup_cosine(int64_t step, int64_t total_steps, int64_t warmup_steps, double base_lr, double start_lr,
                     double min_lr);

// Steps a run may take to end within a wall-clock budget: `done` steps were
// taken when `spent_s` seconds of `budget_s` had passed, each further step
// costs `step_s` and the final evaluation `reserve_s`. At least `done`, at
// most `cap`. (optim.budget_minutes; the trainer measures step_s on the
// first steps.)
int64_t steps_within_budget(double budget_s, double spent_s, double step_s, double reserve_s, int64_t done,
                            int64_t cap);

}  // namespace gps
