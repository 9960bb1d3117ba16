#include "gps/train/prefetcher.h"

#include "gps/core/check.h"

#include <omp.h>

namespace gps {

Prefetcher::Prefetcher(int threads) : worker_([this, threads] { run(threads); }) {}

Prefetcher::~Prefetcher() {
  {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return !job_; });  // the job in flight finishes first
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Prefetcher::run(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  std::unique_lock<std::mutex> lock(m_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || job_; });
    if (stop_) return;
    auto make = job_;
    lock.unlock();
    std::optional<StepBatch> out;
    std::exception_ptr error;
    try {
      out = make();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    done_ = std::move(out);
    error_ = error;
    job_ = nullptr;
    cv_.notify_all();
  }
}

void Prefetcher::submit(std::function<StepBatch()> make) {
  {
    std::lock_guard<std::mutex> lock(m_);
    GPS_CHECK(!pending_, "Prefetcher::submit: the previous batch was not taken");
    job_ = std::move(make);
    pending_ = true;
  }
  cv_.notify_all();
}

StepBatch Prefetcher::take() {
  std::unique_lock<std::mutex> lock(m_);
  GPS_CHECK(pending_, "Prefetcher::take: no batch was submitted");
  cv_.wait(lock, [&] { return !job_; });
  pending_ = false;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  StepBatch b = std::move(*done_);
  done_.reset();
  return b;
}

void Prefetcher::drop() {
  std::unique_lock<std::mutex> lock(m_);
  cv_.wait(lock, [&] { return !job_; });
  pending_ = false;
  done_.reset();
  error_ = nullptr;
}

}  // namespace gps
