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

int64_t steps_within_budget(double budget_s, double spent_s, double step_s, double reserve_s, int64_t done,
                            int64_t cap) {
  const double left = budget_s - spent_s - reserve_s;
  if (!(step_s > 0)) return cap;
  if (left <= 0) return std::min(done, cap);
  const double more = std::floor(left / step_s);
  if (more >= double(cap - done)) return cap;
  return std::clamp<int64_t>(done + int64_t(more), std::min(done, cap), cap);
}

}  // namespace gps
