#include "gps/methods/losses.h"

#include "gps/core/check.h"

namespace gps {

namespace F = torch::nn::functional;

torch::Tensor nt_xent_indexed(const torch::Tensor& z, const torch::Tensor& indexes, double temperature) {
  GPS_CHECK(z.dim() == 2, "nt_xent: z must be [M, D], got ", z.sizes());
  GPS_CHECK(indexes.dim() == 1 && indexes.size(0) == z.size(0), "nt_xent: indexes must be [", z.size(0), "]");
  GPS_CHECK(temperature > 0, "nt_xent: temperature must be > 0");
  const int64_t M = z.size(0);
  auto zn = F::normalize(z, F::NormalizeFuncOptions().dim(1));
  auto logits = zn.mm(zn.t()) / temperature;  // [M, M]
  auto idx = indexes.to(z.device());
  auto eye = torch::eye(M, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
  auto pos_mask = idx.unsqueeze(0).eq(idx.unsqueeze(1)).logical_and(eye.logical_not());
  // Row-wise log-sum-exp with the diagonal removed, stable for small T.
  auto masked = logits.masked_fill(eye, -std::numeric_limits<double>::infinity());
  auto log_all = torch::logsumexp(masked, 1);
  auto log_pos = torch::logsumexp(masked.masked_fill(pos_mask.logical_not(), -std::numeric_limits<double>::infinity()), 1);
  auto has_pos = pos_mask.any(1);
  GPS_CHECK(has_pos.any().item<bool>(), "nt_xent: no row has a positive");
  return (log_all - log_pos).masked_select(has_pos).mean();
}

torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  GPS_CHECK(z1.sizes() == z2.sizes() && z1.dim() == 2, "nt_xent: z1 and z2 must both be [N, D], got ", z1.sizes(),
            " and ", z2.sizes());
  const int64_t N = z1.size(0);
  auto idx = torch::arange(N, torch::TensorOptions().dtype(torch::kInt64).device(z1.device()));
  return nt_xent_indexed(torch::cat({z1, z2}, 0), torch::cat({idx, idx}, 0), temperature);
}

}  // namespace gps
