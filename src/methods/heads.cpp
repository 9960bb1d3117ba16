#include "gps/methods/heads.h"

#include "gps/core/check.h"
#include "gps/distributed/sync_batch_norm.h"

namespace gps {

namespace nn = torch::nn;

torch::nn::Sequential mlp2_bn(int64_t in, int64_t hidden, int64_t out) {
  GPS_CHECK(in > 0 && hidden > 0 && out > 0, "mlp: widths must be positive, got ", in, "-", hidden, "-", out);
  return nn::Sequential(nn::Linear(in, hidden), SyncBatchNorm(hidden), nn::ReLU(), nn::Linear(hidden, out));
}

torch::nn::Sequential mlp3_bn(int64_t in, int64_t hidden, int64_t out, bool bn_last) {
  GPS_CHECK(in > 0 && hidden > 0 && out > 0, "mlp: widths must be positive, got ", in, "-", hidden, "-", out);
  nn::Sequential s(nn::Linear(in, hidden), SyncBatchNorm(hidden), nn::ReLU(), nn::Linear(hidden, hidden),
                   SyncBatchNorm(hidden), nn::ReLU(), nn::Linear(hidden, out));
  if (bn_last) s->push_back(SyncBatchNorm(out));
  return s;
}

}  // namespace gps
