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

torch::Tensor prototype_scores(const torch::Tensor& z, const torch::Tensor& prototypes, bool frozen) {
  namespace F = torch::nn::functional;
  const auto w = F::normalize(frozen ? prototypes.detach() : prototypes, F::NormalizeFuncOptions().dim(1));
  return z.mm(w.t());
}

torch::Tensor init_prototypes(int64_t count, int64_t dim) {
  GPS_CHECK(count > 0 && dim > 0, "prototypes: count and width must be positive, got ", count, " x ", dim);
  return nn::Linear(nn::LinearOptions(dim, count).bias(false))->weight.detach().clone();
}

torch::nn::Sequential mlp_nobias(int64_t layers, int64_t in, int64_t hidden, int64_t out, bool bn_last,
                                 bool last_bias) {
  GPS_CHECK(layers >= 1 && in > 0 && hidden > 0 && out > 0, "mlp: widths must be positive and layers >= 1, got ",
            layers, " layers of ", in, "-", hidden, "-", out);
  nn::Sequential s;
  for (int64_t l = 0; l < layers; ++l) {
    const bool last = l == layers - 1;
    const int64_t a = l == 0 ? in : hidden, b = last ? out : hidden;
    s->push_back(nn::Linear(nn::LinearOptions(a, b).bias(last && last_bias)));
    if (!last) {
      s->push_back(SyncBatchNorm(b));
      s->push_back(nn::ReLU());
    }
  }
  if (bn_last) s->push_back(SyncBatchNorm(nn::BatchNormOptions(out).affine(false)));
  return s;
}

}  // namespace gps
