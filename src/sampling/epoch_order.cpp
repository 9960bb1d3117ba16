#include "gps/sampling/epoch_order.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

#include <algorithm>

namespace gps {

void validate(const EpochOrder& o) {
  GPS_CHECK(o.kind == "random" || o.kind == "quasi-random", "data.order: '", o.kind,
            "' is not one of: random|quasi-random");
  GPS_CHECK(o.chunk_rows >= 0, "epoch order: chunk_rows must be >= 0, got ", o.chunk_rows);
  GPS_CHECK(o.window >= 1, "data.order_window must be >= 1, got ", o.window);
}

torch::Tensor make_epoch_order(int64_t n, const EpochOrder& o, uint64_t seed, uint64_t stream, int64_t epoch) {
  validate(o);
  auto order = torch::arange(n, torch::kInt64);
  auto* p = order.data_ptr<int64_t>();
  Rng rng(seed, stream, uint64_t(epoch));
  auto shuffle = [&rng](int64_t* a, int64_t len) {
    for (int64_t i = len - 1; i > 0; --i) std::swap(a[i], a[rng.below(uint64_t(i) + 1)]);
  };
  if (o.kind == "random") {
    shuffle(p, n);
    return order;
  }
  const int64_t R = o.chunk_rows > 0 ? o.chunk_rows : kDefaultOrderChunkRows;
  const int64_t chunks = (n + R - 1) / R;
  std::vector<int64_t> chunk(static_cast<size_t>(chunks));
  for (int64_t c = 0; c < chunks; ++c) chunk[size_t(c)] = c;
  shuffle(chunk.data(), chunks);
  int64_t at = 0;
  for (int64_t w = 0; w < chunks; w += o.window) {
    const int64_t begin = at;
    for (int64_t c = w; c < std::min(chunks, w + o.window); ++c)
      for (int64_t r = chunk[size_t(c)] * R; r < std::min(n, (chunk[size_t(c)] + 1) * R); ++r) p[at++] = r;
    shuffle(p + begin, at - begin);
  }
  return order;
}

}  // namespace gps
