#include "gps/prior/pca.h"

#include "gps/core/check.h"

namespace gps {

Pca fit_pca(const torch::Tensor& x, int64_t dim) {
  GPS_CHECK(x.dim() == 2, "PCA: expected [N, D] embeddings, got ", x.sizes());
  GPS_CHECK(dim > 0 && dim <= x.size(1), "prior.pca_dim: ", dim, " must be in [1, ", x.size(1), "]");
  GPS_CHECK(x.size(0) >= 2, "PCA needs at least 2 rows");
  auto xd = x.to(torch::kFloat64);
  Pca p;
  p.mean = xd.mean(0, true);
  auto centred = xd - p.mean;
  auto cov = centred.t().mm(centred) / double(x.size(0) - 1);
  auto vecs = std::get<1>(torch::linalg_eigh(cov, "L")).flip({1}).narrow(1, 0, dim);  // descending
  auto idx = vecs.abs().argmax(0);
  p.components = (vecs * vecs.gather(0, idx.unsqueeze(0)).sign()).contiguous();
  return p;
}

torch::Tensor apply_pca(const Pca& pca, const torch::Tensor& x) {
  GPS_CHECK(x.dim() == 2 && x.size(1) == pca.mean.size(1), "PCA: expected [M, ", pca.mean.size(1), "], got ",
            x.sizes());
  return (x.to(torch::kFloat64) - pca.mean).mm(pca.components).to(torch::kFloat32).contiguous();
}

torch::Tensor pca_project(const torch::Tensor& x, int64_t dim) { return apply_pca(fit_pca(x, dim), x); }

torch::Tensor PcaPrior::embed(const Dataset& d) const {
  auto e = base_->embed(d);
  if (!pca_) {
    GPS_CHECK(d.split == "train", "prior.pca_dim: the PCA is fitted on the train split; embed it before ",
              d.name);
    pca_ = std::make_shared<Pca>(fit_pca(e, dim_));
  }
  return apply_pca(*pca_, e);
}

void PcaPrior::fit(const Dataset& train) {
  base_->fit(train);
  if (!pca_) pca_ = std::make_shared<Pca>(fit_pca(base_->embed(train), dim_));
}

std::string PcaPrior::describe() const { return str_cat(base_->describe(), "+pca(", dim_, ")"); }

}  // namespace gps
