#include "gps/eval/rankme.h"

#include "gps/core/check.h"

namespace gps {

double rankme(const torch::Tensor& z, double eps) {
  GPS_CHECK(z.dim() == 2 && z.size(0) >= 1 && z.size(1) >= 1, "rankme: embeddings must be [N, D], got ", z.sizes());
  torch::NoGradGuard no_grad;
  const auto x = z.detach().to(torch::kFloat64);
  GPS_CHECK(torch::isfinite(x).all().item<bool>(), "rankme: embeddings hold NaN or infinity");
  const auto sigma = torch::linalg_svdvals(x);
  const double total = sigma.sum().item<double>();
  if (!(total > 0)) return 1.0;  // all zero: one direction at most
  const auto p = sigma / total + eps;
  return std::exp(-(p * p.log()).sum().item<double>());
}

}  // namespace gps
