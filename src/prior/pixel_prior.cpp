#include "gps/prior/pixel_prior.h"

#include "gps/core/check.h"

namespace gps {

torch::Tensor pca_project(const torch::Tensor& x, int64_t dim) {
  GPS_CHECK(x.dim() == 2, "pca_project: expected [N, D], got ", x.sizes());
  GPS_CHECK(dim > 0 && dim <= x.size(1), "prior.pca_dim: ", dim, " must be in [1, ", x.size(1), "]");
  auto xd = x.to(torch::kFloat64);
  auto centred = xd - xd.mean(0, true);
  auto cov = centred.t().mm(centred) / std::max<int64_t>(1, x.size(0) - 1);
  auto eig = torch::linalg::eigh(cov, "L");  // ascending eigenvalues
  auto vecs = std::get<1>(eig).flip({1}).narrow(1, 0, dim);
  // Fix each direction's sign (largest-magnitude entry positive) so results are reproducible.
  auto idx = vecs.abs().argmax(0);
  auto signs = vecs.gather(0, idx.unsqueeze(0)).sign();
  vecs = vecs * signs;
  return centred.mm(vecs).to(torch::kFloat32).contiguous();
}

torch::Tensor PixelPrior::embed(const Dataset& d) const {
  const int64_t N = d.size(), C = d.channels();
  auto x = d.images.to(torch::kFloat32).div_(255.0f);
  auto mean = torch::tensor(d.mean).view({1, C, 1, 1});
  auto std = torch::tensor(d.std).view({1, C, 1, 1});
  x = ((x - mean) / std).reshape({N, -1}).contiguous();
  if (pca_dim_ > 0) x = pca_project(x, pca_dim_);
  return x;
}

std::string PixelPrior::describe() const { return str_cat("pixels(pca_dim=", pca_dim_, ")"); }

std::unique_ptr<Prior> make_prior(const PriorConfig& cfg) {
  if (cfg.kind == "pixels") return std::make_unique<PixelPrior>(cfg.pca_dim);
  GPS_FAIL("prior.kind: unknown prior '", cfg.kind, "' (expected: pixels)");
}

}  // namespace gps
