#include "gps/train/run_clock.h"

#include <algorithm>

namespace gps {

void RunClock::start_span(int64_t step) {
  span_start_ = Clock::now();
  span_step_ = step;
  excluded_ = data_wait_ = 0;
}

double RunClock::images_per_second(int64_t done, int64_t batch) const {
  return double((done - span_step_) * batch) / std::max(span_seconds(), 1e-9);
}

}  // namespace gps
