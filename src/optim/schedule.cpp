#include "gps/optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace gps {

double warmup_cosine(int64_t step, int64_t total_steps, int64_t warmup_steps, double base_lr, double start_lr,
                     double min_lr) {
  step = std::clamp<int64_t>(step, 0, total_steps);
  if (step < warmup_steps) return start_lr + (base_lr - start_lr) * double(step) / double(warmup_steps);
  const int64_t span = total_steps - warmup_steps;
  if (span <= 0) return base_lr;
  const double t = double(step - warmup_steps) / double(span);
  return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(M_PI * t));
}

}  // namespace gps
