#include "gps/sampling/pair_sampler.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

namespace gps {

namespace {
constexpr uint64_t kOrderStream = 0x0bde5;
constexpr uint64_t kPositiveStream = 0x9051;
}  // namespace

PairSampler::PairSampler(NeighborTable table, int64_t batch_size, uint64_t seed, EpochOrder order)
    : table_(std::move(table)), batch_(batch_size), seed_(seed), order_(std::move(order)) {
  validate(order_);
  GPS_CHECK(batch_ >= 1, "optim.batch_size must be >= 1");
  GPS_CHECK(batch_ <= table_.size(), "optim.batch_size = ", batch_, " is larger than the dataset (", table_.size(),
            " images); lower optim.batch_size or use more data");
}

void PairSampler::set_table(NeighborTable t) {
  GPS_CHECK(t.size() == table_.size(), "set_table: new table has ", t.size(), " rows, expected ", table_.size());
  table_ = std::move(t);
}

torch::Tensor PairSampler::epoch_order(int64_t epoch) const {
  return make_epoch_order(size(), order_, seed_, kOrderStream, epoch);
}

int64_t PairSampler::positive(int64_t epoch, int64_t anchor) const {
  const int64_t count = table_.counts.data_ptr<int64_t>()[anchor];
  const int64_t* row = table_.ids.data_ptr<int64_t>() + anchor * table_.width();
  if (count == 1) return row[0];
  Rng rng(seed_, kPositiveStream, uint64_t(epoch), uint64_t(anchor));
  return row[rng.below(uint64_t(count))];
}

PairBatch PairSampler::batch(int64_t epoch, const torch::Tensor& order, int64_t b) const {
  GPS_CHECK(b >= 0 && b < batches_per_epoch(), "batch index ", b, " out of range");
  PairBatch out;
  out.positions = torch::arange(b * batch_, (b + 1) * batch_, torch::kInt64);
  out.anchors = order.narrow(0, b * batch_, batch_).clone();
  out.positives = torch::empty({batch_}, torch::kInt64);
  const auto* a = out.anchors.data_ptr<int64_t>();
  auto* p = out.positives.data_ptr<int64_t>();
  for (int64_t i = 0; i < batch_; ++i) p[i] = positive(epoch, a[i]);
  return out;
}

}  // namespace gps
