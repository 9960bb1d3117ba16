#include "gps/neighbors/knn_search.h"

#include "gps/core/check.h"

#include <faiss/IndexFlat.h>

namespace gps {

KnnResult knn_search(const torch::Tensor& base_in, const torch::Tensor& queries_in, int64_t k,
                     const std::string& metric) {
  GPS_CHECK(base_in.dim() == 2 && queries_in.dim() == 2, "knn_search: expected 2-D base and queries, got ",
            base_in.sizes(), " and ", queries_in.sizes());
  GPS_CHECK(base_in.size(1) == queries_in.size(1), "knn_search: dimension mismatch ", base_in.size(1), " vs ",
            queries_in.size(1));
  GPS_CHECK(k >= 1, "knn_search: k must be >= 1, got ", k);
  GPS_CHECK(metric == "l2" || metric == "cosine", "neighbors.metric: unknown metric '", metric, "' (l2 | cosine)");
  auto base = base_in.to(torch::kFloat32).contiguous();
  auto queries = queries_in.to(torch::kFloat32).contiguous();
  if (metric == "cosine") {
    base = torch::nn::functional::normalize(base, torch::nn::functional::NormalizeFuncOptions().dim(1)).contiguous();
    queries =
        torch::nn::functional::normalize(queries, torch::nn::functional::NormalizeFuncOptions().dim(1)).contiguous();
  }
  const int64_t d = base.size(1), n = base.size(0), q = queries.size(0);
  faiss::IndexFlatL2 index(d);
  index.add(n, base.data_ptr<float>());
  KnnResult r;
  r.ids = torch::empty({q, k}, torch::kInt64);
  r.dists = torch::empty({q, k}, torch::kFloat32);
  static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t), "FAISS ids must be 64-bit");
  index.search(q, queries.data_ptr<float>(), k, r.dists.data_ptr<float>(),
               reinterpret_cast<faiss::Index::idx_t*>(r.ids.data_ptr<int64_t>()));
  return r;
}

}  // namespace gps
