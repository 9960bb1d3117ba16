#include "knn_ivf.h"

#include "gps/core/check.h"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace gps::detail {

namespace {

using faiss_idx = faiss::Index::idx_t;

// The `p` nearest centroids of each row of x [M, D]: [M, p] int64.
torch::Tensor nearest_lists(const faiss::IndexFlatL2& centroids, const torch::Tensor& x, int64_t p) {
  const int64_t m = x.size(0);
  auto ids = torch::empty({m, p}, torch::kInt64);
  std::vector<float> dist(size_t(m * p));
  centroids.search(m, x.data_ptr<float>(), p, dist.data(), reinterpret_cast<faiss_idx*>(ids.data_ptr<int64_t>()));
  return ids;
}

}  // namespace

KnnResult ivf_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, int64_t nlist,
                     int64_t nprobe, const torch::Tensor& train_rows, int64_t seed, int64_t batch_size,
                     bool self_join) {
  torch::NoGradGuard no_grad;
  const int64_t n = base.size(0), d = base.size(1), nq = queries.size(0);

  // Coarse quantiser: k-means on the training sample.
  faiss::ClusteringParameters cp;
  cp.niter = 10;
  cp.seed = int(seed);
  cp.max_points_per_centroid = std::numeric_limits<int>::max();  // the caller sampled already
  cp.min_points_per_centroid = 1;  // the caller checked sample >= nlist; no FAISS warning below 39 per list
  faiss::Clustering clus(int(d), int(nlist), cp);
  faiss::IndexFlatL2 centroids(d);
  const auto sample = base.index_select(0, train_rows).contiguous();
  clus.train(sample.size(0), sample.data_ptr<float>(), centroids);

  // Inverted lists: base rows ordered by list, offsets[l] .. offsets[l + 1].
  torch::Tensor assign = torch::empty({n}, torch::kInt64);
  for (int64_t s = 0; s < n; s += batch_size) {
    const int64_t m = std::min(batch_size, n - s);
    assign.slice(0, s, s + m).copy_(nearest_lists(centroids, base.slice(0, s, s + m), 1).squeeze(1));
  }
  const auto perm = std::get<1>(assign.sort(/*stable=*/true, 0, false));
  const auto lists = base.index_select(0, perm);
  const auto lists_sq = lists.pow(2).sum(1);
  const auto offsets = torch::cat({torch::zeros({1}, torch::kInt64), assign.bincount({}, nlist).cumsum(0)});
  const auto off = offsets.accessor<int64_t, 1>();

  const float far = std::numeric_limits<float>::max();
  KnnResult r;
  r.ids = torch::empty({nq, k}, torch::kInt64);
  r.dists = torch::empty({nq, k}, torch::kFloat32);
  if (self_join) {
    // Table build (queries = base): the members of list A search the nprobe
    // lists whose centroids are nearest to A's centroid, in one matmul per
    // list -- dense BLAS instead of per-query gathers (7x faster here).
    const auto cents = torch::from_blob(clus.centroids.data(), {nlist, d}, torch::kFloat32);
    const auto cprobe = nearest_lists(centroids, cents, nprobe);
    const auto cp_acc = cprobe.accessor<int64_t, 2>();
    at::parallel_for(0, nlist, 1, [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) {
        const int64_t ma = off[a + 1] - off[a];
        if (ma == 0) continue;
        std::vector<torch::Tensor> ranges;
        for (int64_t p = 0; p < nprobe; ++p) {
          const int64_t l = cp_acc[a][p];
          if (off[l + 1] > off[l]) ranges.push_back(torch::arange(off[l], off[l + 1], torch::kInt64));
        }
        const auto rows = torch::cat(ranges);
        const auto q = lists.slice(0, off[a], off[a + 1]);
        const auto dist = torch::addmm(lists_sq.slice(0, off[a], off[a + 1]).unsqueeze(1) + lists_sq.index_select(0, rows),
                                       q, lists.index_select(0, rows).t(), 1.0, -2.0)
                              .clamp_min_(0);
        const int64_t kk = std::min(k, rows.size(0));
        auto [v, pos] = dist.topk(kk, 1, /*largest=*/false, /*sorted=*/true);
        auto out_d = torch::full({ma, k}, far, torch::kFloat32);
        auto out_i = torch::full({ma, k}, -1, torch::kInt64);
        out_d.slice(1, 0, kk).copy_(v);
        out_i.slice(1, 0, kk).copy_(perm.index_select(0, rows.index_select(0, pos.flatten())).view_as(pos));
        const auto orig = perm.slice(0, off[a], off[a + 1]);
        r.dists.index_copy_(0, orig, out_d);
        r.ids.index_copy_(0, orig, out_i);
      }
    });
    return r;
  }
  for (int64_t s = 0; s < nq; s += batch_size) {
    const int64_t m = std::min(batch_size, nq - s);
    const auto q = queries.slice(0, s, s + m);
    const auto q_sq = q.pow(2).sum(1);
    // (query, probe slot) pairs grouped by list; candidates per pair [m * nprobe, k].
    const auto probe = nearest_lists(centroids, q, nprobe).flatten();
    const auto order = std::get<1>(probe.sort(true, 0, false));
    const auto pair_off = torch::cat({torch::zeros({1}, torch::kInt64), probe.bincount({}, nlist).cumsum(0)});
    const auto po = pair_off.accessor<int64_t, 1>();
    auto cand_d = torch::full({m * nprobe, k}, far, torch::kFloat32);
    auto cand_i = torch::full({m * nprobe, k}, -1, torch::kInt64);
    // Lists in parallel, each scanned single-threaded: per-list matrices are
    // small, and one parallel region per list costs more in OpenMP barriers
    // than the matmul itself. Pair rows are disjoint across lists.
    at::parallel_for(0, nlist, 1, [&](int64_t l0, int64_t l1) {
      for (int64_t l = l0; l < l1; ++l) {
        const int64_t members = off[l + 1] - off[l];
        if (po[l + 1] == po[l] || members == 0) continue;
        const auto pairs = order.slice(0, po[l], po[l + 1]);
        const auto qi = pairs.div(nprobe, "floor");
        // ||q||^2 + ||b||^2 - 2 q.b over the list's members, as the exact path.
        const auto dist = torch::addmm(q_sq.index_select(0, qi).unsqueeze(1) + lists_sq.slice(0, off[l], off[l + 1]),
                                       q.index_select(0, qi), lists.slice(0, off[l], off[l + 1]).t(), 1.0, -2.0)
                              .clamp_min_(0);
        const int64_t kk = std::min(k, members);
        auto [v, idx] = dist.topk(kk, 1, /*largest=*/false, /*sorted=*/true);
        cand_d.index_put_({pairs, torch::indexing::Slice(0, kk)}, v);
        cand_i.index_put_({pairs, torch::indexing::Slice(0, kk)},
                          perm.index_select(0, (idx + off[l]).flatten()).view_as(idx));
      }
    });
    auto [best_d, pos] = cand_d.view({m, nprobe * k}).topk(k, 1, false, true);
    r.dists.slice(0, s, s + m).copy_(best_d);
    r.ids.slice(0, s, s + m).copy_(cand_i.view({m, nprobe * k}).gather(1, pos));
  }
  return r;
}

}  // namespace gps::detail
