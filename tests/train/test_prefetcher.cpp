// The prefetch worker: one persistent thread, batches in submission order,
// a job's exception rethrown where the batch is taken, drop() for rollbacks.
#include "gps/core/check.h"
#include "gps/train/prefetcher.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

using namespace gps;

namespace {

StepBatch batch_of(int64_t v) {
  StepBatch b;
  b.labels = torch::full({1}, double(v));
  return b;
}

}  // namespace

TEST(Prefetcher, OneWorkerThreadMakesEveryBatchInOrder) {
  Prefetcher p(1);
  std::thread::id worker;
  for (int64_t i = 0; i < 50; ++i) {
    p.submit([i, &worker] {
      if (i == 0) worker = std::this_thread::get_id();
      EXPECT_EQ(std::this_thread::get_id(), worker) << "a new thread at batch " << i;
      return batch_of(i);
    });
    EXPECT_TRUE(p.pending());
    EXPECT_EQ(p.take().labels.item<double>(), double(i));
    EXPECT_FALSE(p.pending());
  }
  EXPECT_NE(worker, std::this_thread::get_id());
}

TEST(Prefetcher, AJobsErrorReachesTheTakerAndTheWorkerGoesOn) {
  Prefetcher p(1);
  p.submit([]() -> StepBatch { GPS_FAIL("data.root: image 7 is corrupt"); });
  EXPECT_THROW(p.take(), gps::Error);
  p.submit([] { return batch_of(3); });
  EXPECT_EQ(p.take().labels.item<double>(), 3.0);
}

TEST(Prefetcher, DropForgetsTheBatchInFlightAndMisuseIsAnError) {
  Prefetcher p(1);
  EXPECT_THROW(p.take(), gps::Error);  // nothing submitted
  p.submit([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return batch_of(1);
  });
  EXPECT_THROW(p.submit([] { return batch_of(2); }), gps::Error);  // one at a time
  p.drop();
  EXPECT_FALSE(p.pending());
  p.submit([] { return batch_of(4); });
  EXPECT_EQ(p.take().labels.item<double>(), 4.0);
  p.submit([] { return batch_of(5); });  // left in flight: the destructor waits for it
}
