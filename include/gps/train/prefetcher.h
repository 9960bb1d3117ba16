// One worker thread that makes the next batch while the current step
// computes (train.prefetch). Persistent for the whole run: a thread per step
// would cost a thread creation (and a fresh OpenMP team) every step.
#pragma once

#include "gps/train/train_step.h"

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace gps {

class Prefetcher {
 public:
  // `threads`: the OpenMP threads of the worker's parallel regions
  // (train.loader_threads), set once on the worker.
  explicit Prefetcher(int threads);
  ~Prefetcher();  // waits for the job in flight, then ends the worker
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Starts `make` on the worker. At most one job at a time: the previous
  // one must have been taken (or dropped).
  void submit(std::function<StepBatch()> make);
  bool pending() const { return pending_; }
  // The job's batch, once it is done; rethrows what the job threw.
  StepBatch take();
  // Waits for the job in flight and forgets it (a rollback changes the order).
  void drop();

 private:
  void run(int threads);

  std::mutex m_;
  std::condition_variable cv_;
  std::function<StepBatch()> job_;
  std::optional<StepBatch> done_;
  std::exception_ptr error_;
  bool pending_ = false, stop_ = false;
  std::thread worker_;
};

}  // namespace gps
