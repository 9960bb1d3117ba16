#include "gps/train/budget.h"

#include "gps/distributed/process_group.h"
#include "gps/optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace gps {

Budget::Budget(const Plan& plan, Clock::time_point start, double spent_before, int64_t decided_steps, int64_t step)
    : plan_(plan), start_(start), spent_before_(spent_before) {
  redecide_ = enabled() && !(decided_steps > 0 && spent_before == 0);
  first_ = step + 2;
  at_ = std::min(plan.cap_steps, step + std::max<int64_t>(20, std::min(plan.warmup_steps, plan.steps_per_epoch)));
  t0_ = now();
  step0_ = step;
  if (enabled() && decided_steps > 0)
    info_ = {{"minutes", plan.minutes}, {"steps", decided_steps}, {"decided", "before the resume"},
             {"spent_seconds", spent_before}};
}

double Budget::now() const {
  return spent_before_ + std::chrono::duration<double>(Clock::now() - start_).count() - excluded_;
}

bool Budget::due(int64_t done, int64_t decided, int64_t total_steps) const {
  if (!enabled()) return false;
  if (decided == 0) return done == first_ || done == at_;
  return redecide_ && done % plan_.steps_per_epoch == 0 && done < total_steps && done - step0_ >= 10;
}

Budget::Decision Budget::settle(int64_t done, int64_t decided, int64_t total_steps, double eval_images,
                                dist::Group* group, bool lead) {
  const double t = now();
  if (decided == 0 && done == first_ && done < at_) {  // the first decision's timing starts after a settle
    t0_ = t;
    step0_ = done;
    return {};
  }
  const double step_s = (t - t0_) / double(std::max<int64_t>(1, done - step0_));
  // The final evaluation's estimate: one forward pass over train and test
  // (a training step costs about 6 forward passes per anchor: two views,
  // forward + backward), times 1.5 for the probes.
  const double reserve_s = 1.5 * eval_images * step_s / (6.0 * double(plan_.batch));
  int64_t steps = steps_within_budget(60.0 * plan_.minutes, t, step_s, reserve_s, done, plan_.cap_steps);
  if (group) {  // rank 0's decision everywhere
    auto v = torch::tensor({lead ? double(steps) : 0.0}, torch::kFloat64);
    group->all_reduce_sum(v);
    steps = int64_t(std::llround(v.item<double>()));
  }
  Decision d;
  d.made = true;
  d.total_steps = std::max<int64_t>(steps, done);
  d.changed = d.total_steps != total_steps;
  t0_ = t;
  step0_ = done;
  ++decisions_;
  info_ = {{"minutes", plan_.minutes},
           {"steps", d.total_steps},
           {"epochs", double(d.total_steps) / double(plan_.steps_per_epoch)},
           {"cap_steps", plan_.cap_steps},
           {"decided_at_step", done},
           {"decisions", decisions_},
           {"spent_seconds", t},
           {"step_seconds", step_s},
           {"eval_reserve_seconds", reserve_s}};
  return d;
}

}  // namespace gps
