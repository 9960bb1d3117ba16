#include "gps/neighbors/candidate_rules.h"

#include "gps/core/check.h"

#include <algorithm>
#include <cmath>

namespace gps {

namespace {

void check_rules(const CandidateRules& r) {
  GPS_CHECK(r.tau_mode == "fixed" || r.tau_mode == "adaptive" || r.tau_mode == "adaptive_row",
            "neighbors.tau_mode: unknown mode '", r.tau_mode, "' (fixed | adaptive | adaptive_row)");
  GPS_CHECK(std::isfinite(r.tau), "neighbors.tau must be finite, got ", r.tau);
  GPS_CHECK(r.tau_mode == "fixed" || r.tau < 0, "neighbors.tau only applies to tau_mode=fixed (got tau_mode=",
            r.tau_mode, ")");
  GPS_CHECK(std::isfinite(r.tau_std), "neighbors.tau_std must be finite, got ", r.tau_std);
  GPS_CHECK(r.tau_window >= 1, "neighbors.tau_window must be >= 1, got ", r.tau_window);
}

// mean + c * std (population) of values; NaN when empty.
double mean_plus_std(double sum, double sum_sq, int64_t count, double c) {
  if (count == 0) return std::nan("");
  const double mean = sum / double(count);
  const double var = std::max(0.0, sum_sq / double(count) - mean * mean);
  return mean + c * std::sqrt(var);
}

// A table of n rows and `width` columns to fill: ids -1, distances 0, counts unset.
NeighborTable unfilled_table(int64_t n, int64_t width) {
  NeighborTable t;
  t.ids = torch::full({n, width}, -1, torch::kInt64);
  t.dists = torch::zeros({n, width}, torch::kFloat32);
  t.counts = torch::empty({n}, torch::kInt64);
  return t;
}

}  // namespace

NeighborTable build_table(const torch::Tensor& emb, const CandidateRules& rules, const SearchOptions& search) {
  GPS_CHECK(emb.dim() == 2, "build_table: embeddings must be [N, D], got ", emb.sizes());
  check_rules(rules);
  const int64_t n = emb.size(0), k = rules.k;
  const int64_t others = rules.exclude_self ? k : k - 1;  // neighbours other than i per row
  GPS_CHECK(k >= 1 && others < n, "neighbors.k = ", k, " is too large for ", n, " images (need k ",
            rules.exclude_self ? "< N with exclude_self" : "<= N", ")");
  if (others == 0) return self_table(n);  // k = 1, self included: plain SSL whatever the rules

  const bool adaptive = rules.tau_mode != "fixed";
  const int64_t window = adaptive ? std::min(rules.tau_window, n - 1) : 0;
  const int64_t width = std::max(others, window);  // other images each row needs
  // One extra result so that dropping i still leaves `width` entries.
  const auto r = knn_search(emb, emb, width + 1, search);
  const auto r_ids = r.ids.to(torch::kCPU), r_dists = r.dists.to(torch::kCPU);  // torch backend: any device
  const auto rid = r_ids.accessor<int64_t, 2>();
  const auto rd = r_dists.accessor<float, 2>();

  // 1. kNN lists of other images, self removed by index (ids -1 of an
  //    approximate search dropped): nn[i * width + c], found[i] of them valid.
  std::vector<int64_t> nn(size_t(n * width), -1), found(size_t(n), 0);
  std::vector<float> nd(size_t(n * width), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = 0;
    for (int64_t j = 0; j <= width && c < width; ++j) {
      const int64_t id = rid[i][j];
      if (id == i || id < 0) continue;
      nn[size_t(i * width + c)] = id;
      nd[size_t(i * width + c)] = std::max(0.0f, rd[i][j]);
      ++c;
    }
    found[size_t(i)] = c;
  }
  auto row_len = [&](int64_t i, int64_t cap) { return std::min(found[size_t(i)], cap); };

  // Per-row tau (reference semantics section 1: ball of squared distance <= tau).
  std::vector<double> tau(size_t(n), rules.tau);
  if (adaptive) {
    double gs = 0, gss = 0;
    int64_t gc = 0;
    for (int64_t i = 0; i < n; ++i) {
      double s = 0, ss = 0;
      const int64_t m = row_len(i, window);
      for (int64_t c = 0; c < m; ++c) {
        const double v = nd[size_t(i * width + c)];
        s += v;
        ss += v * v;
      }
      if (rules.tau_mode == "adaptive_row") tau[size_t(i)] = mean_plus_std(s, ss, m, rules.tau_std);
      gs += s;
      gss += ss;
      gc += m;
    }
    if (rules.tau_mode == "adaptive") std::fill(tau.begin(), tau.end(), mean_plus_std(gs, gss, gc, rules.tau_std));
  }
  const bool ball = adaptive || rules.tau >= 0;

  // Sorted copies of the kNN lists for the mutual test.
  std::vector<int64_t> sorted;
  if (rules.mutual) {
    sorted.assign(size_t(n * others), -1);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t m = row_len(i, others);
      std::copy_n(nn.begin() + i * width, m, sorted.begin() + i * others);
      std::sort(sorted.begin() + i * others, sorted.begin() + i * others + m);
    }
  }
  auto in_list = [&](int64_t j, int64_t i) {  // is i among j's kNN list?
    const auto b = sorted.begin() + j * others, e = b + row_len(j, others);
    return std::binary_search(b, e, i);
  };

  NeighborTable t = unfilled_table(n, k);
  auto id = t.ids.accessor<int64_t, 2>();
  auto dd = t.dists.accessor<float, 2>();
  auto cnt = t.counts.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t col = 0;
    if (!rules.exclude_self) {
      id[i][col] = i;
      dd[i][col++] = 0.0f;
    }
    const int64_t m = row_len(i, others);
    for (int64_t c = 0; c < m; ++c) {
      const int64_t j = nn[size_t(i * width + c)];
      const float dj = nd[size_t(i * width + c)];
      if (rules.mutual && !in_list(j, i)) continue;
      if (ball && !(double(dj) <= tau[size_t(i)])) continue;  // NaN tau (no statistics) keeps nothing
      id[i][col] = j;
      dd[i][col++] = dj;
    }
    if (col == 0) {  // empty ball (or no mutual neighbour): self, as the reference
      id[i][0] = i;
      dd[i][0] = 0.0f;
      col = 1;
    }
    cnt[i] = col;
  }
  t.search = r.note;
  return t;
}

NeighborTable combine_tables(const std::vector<NeighborTable>& tables, const std::string& mode, bool exclude_self) {
  GPS_CHECK(mode == "intersection" || mode == "union", "neighbors.combine: unknown mode '", mode,
            "' (intersection | union)");
  GPS_CHECK(!tables.empty(), "combine_tables: no tables");
  const int64_t n = tables[0].size();
  for (size_t p = 0; p < tables.size(); ++p) tables[p].validate(n, str_cat("combine_tables: table ", p));

  std::vector<torch::TensorAccessor<int64_t, 2>> ids;
  std::vector<torch::TensorAccessor<float, 2>> ds;
  std::vector<torch::TensorAccessor<int64_t, 1>> counts;
  for (const auto& t : tables) {
    ids.push_back(t.ids.accessor<int64_t, 2>());
    ds.push_back(t.dists.accessor<float, 2>());
    counts.push_back(t.counts.accessor<int64_t, 1>());
  }
  std::vector<std::vector<std::pair<int64_t, float>>> rows(static_cast<size_t>(n));
  std::vector<int64_t> members;  // scratch: sorted candidate ids of one row of one table
  for (int64_t i = 0; i < n; ++i) {
    auto& out = rows[size_t(i)];
    for (size_t p = 0; p < tables.size(); ++p) {
      const int64_t m = counts[p][i];
      const auto ip = ids[p][i];
      const auto dp = ds[p][i];
      if (p == 0) {
        for (int64_t c = 0; c < m; ++c)
          if (ip[c] != i) out.emplace_back(ip[c], dp[c]);
        continue;
      }
      members.clear();
      for (int64_t c = 0; c < m; ++c) members.push_back(ip[c]);
      std::sort(members.begin(), members.end());
      if (mode == "intersection") {
        out.erase(std::remove_if(out.begin(), out.end(),
                                 [&](const auto& e) { return !std::binary_search(members.begin(), members.end(), e.first); }),
                  out.end());
      } else {
        for (int64_t c = 0; c < m; ++c) {
          const int64_t j = ip[c];
          if (j == i) continue;
          const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& e) { return e.first == j; });
          if (!seen) out.emplace_back(j, dp[c]);
        }
      }
    }
    if (!exclude_self || out.empty()) out.insert(out.begin(), {i, 0.0f});
  }
  int64_t width = 1;
  for (const auto& r : rows) width = std::max<int64_t>(width, int64_t(r.size()));
  NeighborTable t = unfilled_table(n, width);
  auto id = t.ids.accessor<int64_t, 2>();
  auto dd = t.dists.accessor<float, 2>();
  auto cnt = t.counts.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& r = rows[size_t(i)];
    for (size_t c = 0; c < r.size(); ++c) {
      id[i][int64_t(c)] = r[c].first;
      dd[i][int64_t(c)] = r[c].second;
    }
    cnt[i] = int64_t(r.size());
  }
  return t;
}

NeighborTable build_table_multi(const std::vector<torch::Tensor>& embs, const CandidateRules& rules,
                                const SearchOptions& search, const std::string& mode) {
  GPS_CHECK(!embs.empty(), "build_table_multi: no embeddings");
  std::vector<NeighborTable> tables;
  for (size_t p = 0; p < embs.size(); ++p) {
    GPS_CHECK(embs[p].dim() == 2 && embs[p].size(0) == embs[0].size(0), "neighbors.extra_priors: prior ", p,
              " has shape ", embs[p].sizes(), ", expected [", embs[0].size(0), ", D] (one row per image)");
    tables.push_back(build_table(embs[p], rules, search));
  }
  NeighborTable t = combine_tables(tables, mode, rules.exclude_self);
  for (const auto& one : tables) t.search += (t.search.empty() ? "" : "; ") + one.search;
  return t;
}

}  // namespace gps
