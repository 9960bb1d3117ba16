#include "gps/methods/heads.h"

#include "gps/core/check.h"

namespace gps {

namespace nn = torch::nn;

torch::nn::Sequential mlp2_bn(int64_t in, int64_t hidden, int64_t out) {
  GPS_CHECK(in > 0 && hidden > 0 && out > 0, "mlp: widths must be positive, got ", in, "-", hidden, "-", out);
  return nn::Sequential(nn::Linear(in, hidden), nn::BatchNorm1d(hidden), nn::ReLU(), nn::Linear(hidden, out));
}

torch::nn::Sequential mlp3_bn(int64_t in, int64_t hidden, int64_t out, bool bn_last) {
  GPS_CHECK(in > 0 && hidden > 0 && out > 0, "mlp: widths must be positive, got ", in, "-", hidden, "-", out);
  nn::Sequential s(nn::Linear(in, hidden), nn::BatchNorm1d(hidden), nn::ReLU(), nn::Linear(hidden, hidden),
                   nn::BatchNorm1d(hidden), nn::ReLU(), nn::Linear(hidden, out));
  if (bn_last) s->push_back(nn::BatchNorm1d(out));
  return s;
}

}  // namespace gps
