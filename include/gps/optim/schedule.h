// Learning-rate schedules, stepped every iteration.
#pragma once

#include <cstdint>

namespace gps {

// Linear warm-up from start_lr to base_lr over warmup_steps, then cosine
// from base_lr to min_lr at total_steps (solo-learn's LinearWarmupCosineAnnealingLR
// stepped per iteration). step in [0, total_steps]; clamps beyond.
double warmup_cosine(int64_t step, int64_t total_steps, int64_t warmup_steps, double base_lr, double start_lr,
                     double min_lr);

}  // namespace gps
