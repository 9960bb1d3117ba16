// LibTorch brute-force k-NN: the search of a FAISS-less (e.g. CUDA) build.
#include "gps/core/check.h"
#include "gps/neighbors/knn_search.h"

#include <algorithm>
#include <limits>

namespace gps {

KnnResult knn_search_torch(const torch::Tensor& base_in, const torch::Tensor& queries_in, int64_t k,
                           const std::string& metric, int64_t batch_size) {
  GPS_CHECK(base_in.dim() == 2 && queries_in.dim() == 2 && base_in.size(1) == queries_in.size(1),
            "knn_search_torch: expected [N, D] base and [Q, D] queries, got ", base_in.sizes(), " and ",
            queries_in.sizes());
  GPS_CHECK(k >= 1, "knn_search_torch: k must be >= 1, got ", k);
  GPS_CHECK(metric == "l2" || metric == "cosine", "neighbors.metric: unknown metric '", metric, "' (l2 | cosine)");
  GPS_CHECK(batch_size >= 1, "neighbors.search_batch must be >= 1, got ", batch_size);
  torch::NoGradGuard no_grad;
  const auto dev = base_in.device();
  auto base = base_in.to(dev, torch::kFloat32);
  auto queries = queries_in.to(dev, torch::kFloat32);
  if (metric == "cosine") {
    namespace F = torch::nn::functional;
    base = F::normalize(base, F::NormalizeFuncOptions().dim(1));
    queries = F::normalize(queries, F::NormalizeFuncOptions().dim(1));
  }
  base = base.contiguous();
  const int64_t n = base.size(0), nq = queries.size(0);
  constexpr int64_t kBaseBlock = 16384;  // base rows per distance block
  const auto base_sq = base.pow(2).sum(1);  // [N]
  const float far = std::numeric_limits<float>::max();
  KnnResult r;
  r.ids = torch::full({nq, k}, -1, torch::dtype(torch::kInt64).device(dev));
  r.dists = torch::full({nq, k}, far, torch::dtype(torch::kFloat32).device(dev));
  const int64_t kk = std::min(k, n);  // at most n neighbours exist
  if (kk == 0) return r;
  for (int64_t q0 = 0; q0 < nq; q0 += batch_size) {
    const int64_t q1 = std::min(nq, q0 + batch_size);
    const auto q = queries.slice(0, q0, q1);
    const auto q_sq = q.pow(2).sum(1, true);  // [B, 1]
    torch::Tensor best_d, best_i;             // running top-kk of the blocks seen
    for (int64_t b0 = 0; b0 < n; b0 += kBaseBlock) {
      const int64_t b1 = std::min(n, b0 + kBaseBlock);
      // ||q||^2 + ||b||^2 - 2 q.b, the expansion FAISS's BLAS path uses; rounding can make it slightly negative.
      auto d = torch::addmm(q_sq + base_sq.slice(0, b0, b1).unsqueeze(0), q, base.slice(0, b0, b1).t(), 1.0, -2.0)
                   .clamp_min_(0);
      auto [v, i] = d.topk(std::min(kk, b1 - b0), 1, /*largest=*/false, /*sorted=*/true);
      i.add_(b0);
      if (!best_d.defined()) {
        best_d = v;
        best_i = i;
      } else {
        auto cd = torch::cat({best_d, v}, 1), ci = torch::cat({best_i, i}, 1);
        auto [mv, mi] = cd.topk(std::min(kk, cd.size(1)), 1, false, true);
        best_d = mv;
        best_i = ci.gather(1, mi);
      }
    }
    r.dists.slice(0, q0, q1).slice(1, 0, best_d.size(1)).copy_(best_d);
    r.ids.slice(0, q0, q1).slice(1, 0, best_i.size(1)).copy_(best_i);
  }
  return r;
}

}  // namespace gps
