#include "gps/neighbors/knn_search.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/rng.h"
#include "knn_ivf.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gps {

namespace {

static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t), "FAISS ids must be 64-bit");

// Float32, contiguous, CPU; L2-normalised rows for cosine (then squared L2 =
// 2 - 2 cos, the same distances as the exact path).
torch::Tensor prepare(const torch::Tensor& x, const std::string& metric) {
  auto y = x.to(torch::kCPU, torch::kFloat32);
  if (metric == "cosine") y = torch::nn::functional::normalize(y, torch::nn::functional::NormalizeFuncOptions().dim(1));
  return y.contiguous();
}

int64_t auto_nlist(int64_t n) { return std::max<int64_t>(1, std::llround(4.0 * std::sqrt(double(n)))); }

// Effective IVF parameters for n base vectors; errors name the key.
struct IvfParams {
  int64_t nlist, nprobe, train;
};
IvfParams ivf_params(const SearchOptions& o, int64_t n) {
  IvfParams p{};
  p.nlist = o.nlist > 0 ? o.nlist : std::min(auto_nlist(n), n);
  GPS_CHECK(p.nlist <= n, "neighbors.nlist = ", p.nlist, " exceeds the number of vectors (", n, ")");
  p.nprobe = o.nlist > 0 ? o.nprobe : std::min(o.nprobe, p.nlist);
  GPS_CHECK(p.nprobe >= 1 && p.nprobe <= p.nlist, "neighbors.nprobe = ", o.nprobe, " must lie in [1, neighbors.nlist = ",
            p.nlist, "]");
  p.train = o.ivf_train_size > 0 ? std::min(o.ivf_train_size, n) : std::min(n, 40 * p.nlist);
  GPS_CHECK(p.train >= p.nlist, "neighbors.ivf_train_size = ", o.ivf_train_size, " is smaller than neighbors.nlist (",
            p.nlist, "): k-means needs at least one point per list");
  return p;
}

void check_options(const SearchOptions& o) {
  GPS_CHECK(o.metric == "l2" || o.metric == "cosine", "neighbors.metric: unknown metric '", o.metric, "' (l2 | cosine)");
  GPS_CHECK(o.backend == "faiss" || o.backend == "torch", "neighbors.backend: unknown backend '", o.backend,
            "' (faiss | torch)");
  GPS_CHECK(o.index == "exact" || o.index == "ivf" || o.index == "hnsw" || o.index == "auto", "neighbors.index: unknown index '",
            o.index, "' (exact | ivf | hnsw | auto)");
  GPS_CHECK(o.backend == "faiss" || o.index == "exact" || o.index == "auto", "neighbors.index = ", o.index,
            " needs neighbors.backend = faiss (the torch backend is exact only)");
  GPS_CHECK(o.batch_size >= 1, "neighbors.search_batch must be >= 1, got ", o.batch_size);
  GPS_CHECK(o.hnsw_m >= 2, "neighbors.hnsw_m must be >= 2, got ", o.hnsw_m);
  GPS_CHECK(o.ef_search >= 1 && o.ef_construction >= 1, "neighbors.ef_search and neighbors.ef_construction must be >= 1");
  GPS_CHECK(o.approx_threshold >= 0, "neighbors.approx_threshold must be >= 0");
  GPS_CHECK(o.recall_sample >= 1, "neighbors.recall_sample must be >= 1, got ", o.recall_sample);
  GPS_CHECK(o.min_recall >= 0 && o.min_recall <= 1, "neighbors.min_recall must lie in [0, 1], got ", o.min_recall);
}

// Searches in batches of `bs` queries into preallocated results.
void batched_search(const faiss::Index& index, const torch::Tensor& q, int64_t k, int64_t bs, KnnResult& r) {
  const int64_t nq = q.size(0), d = q.size(1);
  const float* qp = q.data_ptr<float>();
  float* dp = r.dists.data_ptr<float>();
  int64_t* ip = r.ids.data_ptr<int64_t>();
  for (int64_t s = 0; s < nq; s += bs) {
    const int64_t m = std::min(bs, nq - s);
    index.search(m, qp + s * d, k, dp + s * k, reinterpret_cast<faiss::Index::idx_t*>(ip + s * k));
  }
}

// `count` distinct row ids of [0, n), sorted, drawn from `seed` (partial Fisher-Yates).
std::vector<int64_t> sample_rows(int64_t n, int64_t count, uint64_t seed) {
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  if (count >= n) return idx;
  Rng rng(seed, 0x1f5);
  for (int64_t i = 0; i < count; ++i) std::swap(idx[i], idx[i + int64_t(rng.below(uint64_t(n - i)))]);
  idx.resize(count);
  std::sort(idx.begin(), idx.end());
  return idx;
}

// recall@k of `approx` on the rows `rows` of the queries, against exact
// results for those rows: the share of approximate neighbours no farther
// than the exact k-th (ties count as found).
double recall_at_k(const KnnResult& approx, const KnnResult& exact, const std::vector<int64_t>& rows) {
  const int64_t k = exact.ids.size(1);
  const auto ad = approx.dists.accessor<float, 2>();
  const auto ed = exact.dists.accessor<float, 2>();
  int64_t found = 0;
  for (size_t s = 0; s < rows.size(); ++s) {
    const float kth = ed[int64_t(s)][k - 1];
    const float tol = 1e-5f * std::max(1.0f, std::abs(kth));
    for (int64_t j = 0; j < k; ++j) found += ad[rows[s]][j] <= kth + tol;
  }
  return double(found) / double(k * int64_t(rows.size()));
}

KnnResult exact_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, int64_t batch_size) {
  KnnResult r;
  r.ids = torch::empty({queries.size(0), k}, torch::kInt64);
  r.dists = torch::empty({queries.size(0), k}, torch::kFloat32);
  faiss::IndexFlatL2 index(base.size(1));
  index.add(base.size(0), base.data_ptr<float>());
  batched_search(index, queries, k, batch_size, r);
  r.note = "exact";
  return r;
}

}  // namespace

SearchOptions search_options(const NeighborConfig& c) {
  SearchOptions o = c.search;
  o.device = c.search.backend == "torch" ? resolve_device(c.search.device, "neighbors.device").str() : "";
  return o;
}

std::string resolved_index(const SearchOptions& o, int64_t n) {
  if (o.index != "auto") return o.index;
  if (o.backend == "torch" || n < o.approx_threshold) return "exact";
  return kAutoApproxIndex;
}

std::string describe_search(const SearchOptions& o, int64_t n) {
  const std::string idx = resolved_index(o, n);
  if (o.backend == "torch") return "torch-exact";
  if (idx == "ivf") {
    const auto p = ivf_params(o, n);
    return str_cat("ivf(nlist=", p.nlist, ",nprobe=", p.nprobe, ",train=", p.train, ",seed=", o.seed, ")",
                   o.index == "auto" ? str_cat("+recall>=", o.min_recall, "@", o.recall_sample) : std::string());
  }
  if (idx == "hnsw") return str_cat("hnsw(m=", o.hnsw_m, ",efc=", o.ef_construction, ",efs=", o.ef_search, ")");
  return idx;
}

KnnResult knn_search(const torch::Tensor& base_in, const torch::Tensor& queries_in, int64_t k, const SearchOptions& o) {
  GPS_CHECK(base_in.dim() == 2 && queries_in.dim() == 2, "knn_search: expected 2-D base and queries, got ",
            base_in.sizes(), " and ", queries_in.sizes());
  GPS_CHECK(base_in.size(1) == queries_in.size(1), "knn_search: dimension mismatch ", base_in.size(1), " vs ",
            queries_in.size(1));
  GPS_CHECK(k >= 1, "knn_search: k must be >= 1, got ", k);
  check_options(o);
  if (o.backend == "torch") {
    if (o.device.empty() || torch::Device(o.device) == base_in.device())
      return knn_search_torch(base_in, queries_in, k, o.metric, std::min<int64_t>(o.batch_size, 4096));
    const torch::Device dev(o.device);
    const auto base = base_in.to(dev), queries = base_in.is_same(queries_in) ? base : queries_in.to(dev);
    auto r = knn_search_torch(base, queries, k, o.metric, std::min<int64_t>(o.batch_size, 4096));
    return {r.ids.to(base_in.device()), r.dists.to(base_in.device())};
  }

  const bool self_join = base_in.is_same(queries_in);  // a table build: every row queries the others
  const auto base = prepare(base_in, o.metric);
  const auto queries = prepare(queries_in, o.metric);
  const int64_t d = base.size(1), n = base.size(0), nq = queries.size(0);
  KnnResult r;
  r.ids = torch::empty({nq, k}, torch::kInt64);
  r.dists = torch::empty({nq, k}, torch::kFloat32);
  const std::string kind = resolved_index(o, n);
  if (kind == "exact") {
    return exact_search(base, queries, k, o.batch_size);
  } else if (kind == "ivf") {
    const auto p = ivf_params(o, n);
    auto picked = sample_rows(n, p.train, uint64_t(o.seed));
    const auto rows = torch::from_blob(picked.data(), {p.train}, torch::kInt64).clone();
    auto ivf = [&](int64_t nprobe) {
      auto res = detail::ivf_search(base, queries, k, p.nlist, nprobe, rows, o.seed, o.batch_size, self_join);
      res.note = str_cat("ivf(nlist=", p.nlist, ",nprobe=", nprobe, ")");
      return res;
    };
    if (o.index != "auto") return ivf(p.nprobe);
    // auto: check the approximate answer against exact search on a sample.
    const auto sample = sample_rows(nq, std::min(nq, o.recall_sample), uint64_t(o.seed) ^ 0x5ec411);
    const auto sample_t = torch::from_blob(const_cast<int64_t*>(sample.data()), {int64_t(sample.size())}, torch::kInt64);
    const KnnResult truth = exact_search(base, queries.index_select(0, sample_t).contiguous(), k, o.batch_size);
    std::string tried;
    for (int64_t nprobe = p.nprobe; nprobe * 2 <= p.nlist || nprobe == p.nprobe; nprobe *= 4) {
      KnnResult res = ivf(nprobe);
      res.recall = recall_at_k(res, truth, sample);
      tried += str_cat(tried.empty() ? "" : ", ", "nprobe ", nprobe, ": ", res.recall);
      if (res.recall >= o.min_recall) {
        res.note += str_cat(" recall@", k, " ", res.recall, " on ", sample.size(), " queries (", tried, ")");
        return res;
      }
    }
    KnnResult res = exact_search(base, queries, k, o.batch_size);
    res.recall = 1.0;
    res.note = str_cat("exact: ivf(nlist=", p.nlist, ") stayed below recall@", k, " ", o.min_recall, " on ",
                       sample.size(), " queries (", tried, ")");
    return res;
  } else {  // hnsw
    faiss::IndexHNSWFlat index(int(d), int(o.hnsw_m), faiss::METRIC_L2);
    index.hnsw.efConstruction = int(o.ef_construction);
    index.add(n, base.data_ptr<float>());
    index.hnsw.efSearch = int(std::max(o.ef_search, k));
    batched_search(index, queries, k, o.batch_size, r);
    r.note = str_cat("hnsw(m=", o.hnsw_m, ",efs=", std::max(o.ef_search, k), ")");
  }
  return r;
}

KnnResult knn_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, const std::string& metric) {
  SearchOptions o;
  o.metric = metric;
  return knn_search(base, queries, k, o);
}

}  // namespace gps
