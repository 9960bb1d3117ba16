// Neighbour search at scale (IVF, HNSW, LibTorch brute force) and the
// candidate rules (tau ball, adaptive tau, mutual kNN, several priors).
#include "gps/core/check.h"
#include "gps/io/npy.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/neighbors/knn_search.h"
#include "gps/neighbors/table_cache.h"
#include "gps/prior/pixel_prior.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

using namespace gps;

namespace {

// A Gaussian mixture: `clusters` centres, points spread around them.
torch::Tensor mixture(int64_t n, int64_t d, int64_t clusters, uint64_t seed) {
  torch::manual_seed(seed);
  auto centres = torch::randn({clusters, d}) * 2;
  auto which = torch::randint(0, clusters, {n}, torch::kInt64);
  return centres.index_select(0, which) + torch::randn({n, d});
}

// Mean share of the exact k nearest found by the approximate search.
double recall(const KnnResult& approx, const KnnResult& exact) {
  const int64_t q = exact.ids.size(0), k = exact.ids.size(1);
  int64_t hits = 0;
  auto a = approx.ids.accessor<int64_t, 2>();
  auto e = exact.ids.accessor<int64_t, 2>();
  for (int64_t i = 0; i < q; ++i) {
    std::set<int64_t> truth;
    for (int64_t c = 0; c < k; ++c) truth.insert(e[i][c]);
    for (int64_t c = 0; c < k; ++c) hits += truth.count(a[i][c]);
  }
  return double(hits) / double(q * k);
}

// Row i's valid candidates.
std::vector<int64_t> row(const NeighborTable& t, int64_t i) {
  std::vector<int64_t> out;
  for (int64_t c = 0; c < t.counts[i].item<int64_t>(); ++c) out.push_back(t.ids[i][c].item<int64_t>());
  return out;
}

using Rows = std::vector<std::vector<int64_t>>;
Rows rows(const NeighborTable& t) {
  Rows out;
  for (int64_t i = 0; i < t.size(); ++i) out.push_back(row(t, i));
  return out;
}

// Points on a line; squared distances are exact small integers:
//   0: 1->1  2->9   3->49  4->225      1: 0->1  2->4  3->36 4->196
//   2: 1->4  0->9   3->16  4->144      3: 2->16 1->36 0->49 4->64
//   4: 3->64 2->144 1->196 0->225
torch::Tensor line_points() { return torch::tensor({0.f, 1.f, 3.f, 7.f, 15.f}).unsqueeze(1); }

CandidateRules rules(int64_t k, bool exclude_self) {
  CandidateRules r;
  r.k = k;
  r.exclude_self = exclude_self;
  return r;
}

}  // namespace

// ---- approximate search ----

TEST(NeighborRulesSearch, IvfRecallWithDefaults) {
  const auto x = mixture(20000, 32, 200, 3);
  SearchOptions exact, ivf;
  ivf.index = "ivf";  // defaults: nlist = 4 sqrt(N) = 566, nprobe = 16, k-means on 20000 rows; per-query probes
  const auto q = x.slice(0, 0, 2000);
  const auto truth = knn_search(x, q, 10, exact);
  EXPECT_GE(recall(knn_search(x, q, 10, ivf), truth), 0.95);
  // The table build (queries = base) probes per list instead: as good here.
  const auto self = knn_search(x, x, 10, ivf).ids.slice(0, 0, 2000);
  EXPECT_GE(recall(KnnResult{self, {}}, truth), 0.95);
}

TEST(NeighborRulesSearch, IvfRecallOnUnstructuredGaussian) {
  torch::manual_seed(4);
  const auto x = torch::randn({20000, 32});
  SearchOptions exact, ivf;
  ivf.index = "ivf";
  ivf.nlist = 64;  // unstructured data needs a large share of the lists
  ivf.nprobe = 32;
  const auto q = x.slice(0, 0, 1000);
  const auto truth = knn_search(x, q, 10, exact);
  EXPECT_GE(recall(knn_search(x, q, 10, ivf), truth), 0.95);
  // The table build probes per list (the lists nearest to the query's own
  // list's centroid): on data without cluster structure it loses recall
  // against per-query probes (measured 0.78 here; 0.33 vs 0.55 with 566
  // lists and nprobe 16). Clustered data (the tests above, the benchmark)
  // shows no gap. Guard the known level so a regression shows.
  const auto self = knn_search(x, x, 10, ivf).ids.slice(0, 0, 1000);
  EXPECT_GE(recall(KnnResult{self, {}}, truth), 0.7);
}

TEST(NeighborRulesSearch, HnswRecallWithDefaults) {
  torch::manual_seed(5);
  const auto x = torch::randn({20000, 32});
  SearchOptions exact, hnsw;
  hnsw.index = "hnsw";  // defaults: M = 32, ef_search = 128
  const auto q = x.slice(0, 0, 2000);
  EXPECT_GE(recall(knn_search(x, q, 10, hnsw), knn_search(x, q, 10, exact)), 0.95);
}

TEST(NeighborRulesSearch, IvfIsDeterministicForASeedAndBatchesAgree) {
  const auto x = mixture(5000, 16, 50, 6);
  SearchOptions o;
  o.index = "ivf";
  o.ivf_train_size = 1000;  // a real sample of the data
  o.seed = 7;
  const auto a = knn_search(x, x, 5, o), a2 = knn_search(x, x, 5, o);
  EXPECT_TRUE(torch::equal(a.ids, a2.ids));
  EXPECT_TRUE(torch::equal(a.dists, a2.dists));
  o.batch_size = 333;  // batching changes matmul shapes (last-bit rounding), not the neighbours
  const auto b = knn_search(x, x, 5, o);
  EXPECT_GE(torch::eq(a.ids, b.ids).to(torch::kFloat).mean().item<double>(), 0.999);
  EXPECT_TRUE(torch::allclose(a.dists, b.dists, 1e-4, 1e-3)) << (a.dists - b.dists).abs().max();
  o.seed = 8;  // another sample, other centroids: still a good search
  SearchOptions exact;
  EXPECT_GE(recall(knn_search(x, x, 5, o), knn_search(x, x, 5, exact)), 0.95);
}

TEST(NeighborRulesSearch, CosineIsSquaredL2OfNormalisedVectorsOnEveryPath) {
  const auto x = mixture(3000, 16, 30, 8);
  const auto xn = x / x.norm(2, 1, true);
  SearchOptions exact_l2;
  const auto ref = knn_search(xn, xn, 5, exact_l2);
  for (const std::string index : {"ivf", "hnsw"}) {
    SearchOptions o;
    o.metric = "cosine";
    o.index = index;
    const auto r = knn_search(x, x, 5, o);
    EXPECT_GE(recall(r, ref), 0.95) << index;
    // Same distance definition: 2 - 2 cos.
    const auto got = r.dists.select(1, 1), want = (xn - xn.index_select(0, r.ids.select(1, 1))).pow(2).sum(1);
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << index;
  }
}

TEST(NeighborRulesSearch, AutoPicksExactBelowThreshold) {
  SearchOptions o;
  o.index = "auto";
  o.approx_threshold = 1000;
  EXPECT_EQ(resolved_index(o, 999), "exact");
  EXPECT_EQ(resolved_index(o, 1000), kAutoApproxIndex);
  o.backend = "torch";
  EXPECT_EQ(resolved_index(o, 5000), "exact");
  EXPECT_EQ(describe_search(o, 5000), "torch-exact");
}

// index=auto at scale measures what the approximate index loses: on data
// without structure (where per-list probes reach recall 0.33) it raises
// nprobe or falls back to exact until recall@k >= 0.95, and says so.
TEST(NeighborRulesSearch, AutoReachesTheRecallItChecksAndLogsIt) {
  torch::manual_seed(4);
  const auto noise = torch::randn({8000, 32});
  SearchOptions o, exact;
  o.index = "auto";
  o.approx_threshold = 1000;
  const auto truth = knn_search(noise, noise.slice(0, 0, 1000), 10, exact);
  const auto r = knn_search(noise, noise, 10, o);
  EXPECT_GE(r.recall, 0.95) << r.note;
  EXPECT_GE(recall(KnnResult{r.ids.slice(0, 0, 1000), {}}, truth), 0.95) << r.note;
  EXPECT_THAT(r.note, ::testing::HasSubstr("nprobe 16: "));
  EXPECT_THAT(r.note, ::testing::HasSubstr("on 1000 queries"));
  // Clustered data passes at the default probes: IVF is kept.
  const auto x = mixture(20000, 32, 200, 3);
  const auto c = knn_search(x, x, 10, o);
  EXPECT_GE(c.recall, 0.95);
  EXPECT_THAT(c.note, ::testing::StartsWith("ivf(nlist=566,nprobe=16) recall@10 "));
  // The table keeps the note, in memory and in its saved meta.json.
  test::TempDir tmp;
  NeighborTable t = build_table(noise, rules(4, false), o);
  EXPECT_THAT(t.search, ::testing::HasSubstr("recall@"));
  save_table(tmp.file("t"), t, "fp");
  NeighborTable back;
  ASSERT_TRUE(load_table(tmp.file("t"), "fp", back));
  EXPECT_EQ(back.search, t.search);
  EXPECT_THAT(test::read_bytes(tmp.file("t/meta.json")), ::testing::HasSubstr("recall@"));
  EXPECT_THAT(describe_search(o, 8000), ::testing::HasSubstr("+recall>=0.95@1000"));
}

// ---- LibTorch backend ----

TEST(NeighborRulesSearch, TorchBackendEqualsFaissExact) {
  torch::manual_seed(9);
  const auto x = torch::randn({3000, 24});
  const auto q = torch::randn({700, 24});
  for (const std::string metric : {"l2", "cosine"}) {
    SearchOptions f, t;
    f.metric = t.metric = metric;
    t.backend = "torch";
    t.batch_size = 256;  // several query blocks
    const auto a = knn_search(x, q, 12, f), b = knn_search(x, q, 12, t);
    ASSERT_EQ(b.ids.sizes(), a.ids.sizes());
    EXPECT_TRUE(torch::allclose(b.dists, a.dists, 1e-4, 1e-5)) << metric;
    // Ids agree wherever the distance is not tied with a neighbour's.
    auto ai = a.ids.accessor<int64_t, 2>(), bi = b.ids.accessor<int64_t, 2>();
    auto ad = a.dists.accessor<float, 2>();
    int64_t compared = 0;
    for (int64_t i = 0; i < a.ids.size(0); ++i)
      for (int64_t c = 0; c < 12; ++c) {
        const float lo = c > 0 ? ad[i][c - 1] : -1.f, hi = c < 11 ? ad[i][c + 1] : 1e30f;
        const float tol = 1e-4f * (1 + ad[i][c]);
        if (ad[i][c] - lo < tol || hi - ad[i][c] < tol) continue;
        EXPECT_EQ(bi[i][c], ai[i][c]) << metric << " row " << i << " col " << c;
        ++compared;
      }
    EXPECT_GT(compared, 700 * 10);
  }
}

TEST(NeighborRulesSearch, TorchBackendPadsWhenKExceedsN) {
  const auto x = torch::tensor({0.f, 2.f, 5.f}).unsqueeze(1);
  const auto r = knn_search_torch(x, x, 5, "l2", 2);
  EXPECT_EQ(r.ids[0][0].item<int64_t>(), 0);
  EXPECT_EQ(r.ids[0][1].item<int64_t>(), 1);
  EXPECT_EQ(r.ids[0][2].item<int64_t>(), 2);
  EXPECT_EQ(r.ids[0][3].item<int64_t>(), -1);
  EXPECT_FLOAT_EQ(r.dists[2][1].item<float>(), 9.f);
}

TEST(NeighborRulesSearch, TorchBackendBuildsTheSameTable) {
  torch::manual_seed(10);
  const auto x = torch::randn({1500, 8});
  SearchOptions f, t;
  t.backend = "torch";
  const auto a = build_table(x, rules(5, true), f), b = build_table(x, rules(5, true), t);
  EXPECT_GE(torch::eq(a.ids, b.ids).to(torch::kFloat).mean().item<double>(), 0.999);
}

// ---- candidate rules ----

TEST(NeighborRules, PlainRulesEqualTheClassicTable) {
  torch::manual_seed(11);
  const auto x = torch::randn({300, 8});
  for (bool ex : {false, true}) {
    const auto a = build_table(x, 4, ex, "l2");
    const auto b = build_table(x, rules(4, ex), SearchOptions{});
    EXPECT_TRUE(torch::equal(a.ids, b.ids));
    EXPECT_TRUE(torch::equal(a.counts, b.counts));
  }
}

TEST(NeighborRules, FixedTauBallCappedAtK) {
  auto r = rules(3, true);
  r.tau = 10;
  auto t = build_table(line_points(), r, SearchOptions{});
  t.validate(5, "test");
  EXPECT_EQ(rows(t), (Rows{{1, 2}, {0, 2}, {1, 0}, {3}, {4}}));  // rows 3, 4: empty ball -> self
  EXPECT_FLOAT_EQ(t.dists[0][1].item<float>(), 9.f);
  EXPECT_FLOAT_EQ(t.dists[3][0].item<float>(), 0.f);
  r.tau = 1000;  // everything in the ball: capped at k
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{1, 2, 3}, {0, 2, 3}, {1, 0, 3}, {2, 1, 0}, {3, 2, 1}}));
  r.exclude_self = false;
  r.tau = 10;  // self always in its ball
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{0, 1, 2}, {1, 0, 2}, {2, 1, 0}, {3}, {4}}));
  r.tau = 0;  // Proposition 1 (ii): tau -> 0 is plain SSL
  EXPECT_TRUE(build_table(line_points(), r, SearchOptions{}).counts.eq(1).all().item<bool>());
}

TEST(NeighborRules, AdaptiveTauIsOneThresholdFromAllRows) {
  // First 2 distances per row: {1,9} {1,4} {4,9} {16,36} {64,144}: mean 28.8,
  // population std sqrt(2658 - 28.8^2) = 42.76.
  auto r = rules(3, true);
  r.tau_mode = "adaptive";
  r.tau_window = 2;
  r.tau_std = 0;  // tau = mean = 28.8
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{1, 2}, {0, 2}, {1, 0, 3}, {2}, {4}}));
  r.tau_std = 1;  // tau = 71.56
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{1, 2, 3}, {0, 2, 3}, {1, 0, 3}, {2, 1, 0}, {3}}));
}

TEST(NeighborRules, AdaptiveRowTauPerRow) {
  auto r = rules(3, true);
  r.tau_mode = "adaptive_row";
  r.tau_window = 2;
  r.tau_std = 0;  // tau_i = mean of row i's first 2: 5, 2.5, 6.5, 26, 104
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{1}, {0}, {1}, {2}, {3}}));
  r.tau_std = 1;  // + |a - b| / 2: 9, 4, 9, 36, 144 (boundaries included)
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{1, 2}, {0, 2}, {1, 0}, {2, 1}, {3, 2}}));
  r.tau_std = -1;  // mean - std: 1, 1, 4, 16, 64
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{1}, {0}, {1}, {2}, {3}}));
}

TEST(NeighborRules, MutualKnn) {
  // 2-NN lists: 0 {1,2}  1 {0,2}  2 {1,0}  3 {2,1}  4 {3,2}; 3 and 4 are nobody's.
  auto r = rules(2, true);
  r.mutual = true;
  const auto t = build_table(line_points(), r, SearchOptions{});
  t.validate(5, "test");
  EXPECT_EQ(rows(t), (Rows{{1, 2}, {0, 2}, {1, 0}, {3}, {4}}));
  r.exclude_self = false;
  r.k = 3;
  EXPECT_EQ(rows(build_table(line_points(), r, SearchOptions{})), (Rows{{0, 1, 2}, {1, 0, 2}, {2, 1, 0}, {3}, {4}}));
}

TEST(NeighborRules, CombineTwoPriors) {
  // Prior B = {0, 5, 1, 6, 3.2}: 2-NN lists 0 {2,4}  1 {3,4}  2 {0,4}  3 {1,4}  4 {1,2};
  // prior A (line_points): 0 {1,2}  1 {0,2}  2 {1,0}  3 {2,1}  4 {3,2}.
  const auto b = torch::tensor({0.f, 5.f, 1.f, 6.f, 3.2f}).unsqueeze(1);
  const auto inter = build_table_multi({line_points(), b}, rules(2, true), SearchOptions{}, "intersection");
  inter.validate(5, "test");
  EXPECT_EQ(rows(inter), (Rows{{2}, {1}, {0}, {1}, {2}}));  // row 1: empty -> self
  EXPECT_FLOAT_EQ(inter.dists[0][0].item<float>(), 9.f);    // distance of the first prior
  const auto uni = build_table_multi({line_points(), b}, rules(2, true), SearchOptions{}, "union");
  uni.validate(5, "test");
  EXPECT_EQ(uni.width(), 4);
  EXPECT_EQ(rows(uni), (Rows{{1, 2, 4}, {0, 2, 3, 4}, {1, 0, 4}, {2, 1, 4}, {3, 2, 1}}));
  EXPECT_EQ(uni.counts.sum().item<int64_t>(), 16);
  // With self: i first, then the combined others.
  const auto inter_self = build_table_multi({line_points(), b}, rules(3, false), SearchOptions{}, "intersection");
  EXPECT_EQ(rows(inter_self), (Rows{{0, 2}, {1}, {2, 0}, {3, 1}, {4, 2}}));
  EXPECT_THROW(build_table_multi({line_points(), b.slice(0, 0, 4)}, rules(2, true), SearchOptions{}, "union"),
               gps::Error);
}

TEST(NeighborRules, CombineDropsSelfFallbacksBeforeTheUnion) {
  // Table A's row 0 is a self fallback; B offers 1: the union is {1}, not {0, 1}.
  NeighborTable a, b;
  a.ids = torch::tensor({0, -1, 0, -1}, torch::kInt64).view({2, 2});
  a.dists = torch::zeros({2, 2});
  a.counts = torch::tensor({1, 1}, torch::kInt64);
  b.ids = torch::tensor({1, 0}, torch::kInt64).view({2, 1});
  b.dists = torch::ones({2, 1});
  b.counts = torch::tensor({1, 1}, torch::kInt64);
  const auto u = combine_tables({a, b}, "union", true);
  EXPECT_EQ(rows(u), (Rows{{1}, {0}}));
  EXPECT_THROW(combine_tables({a, b}, "xor", true), gps::Error);
}

// ---- options and configuration ----

TEST(NeighborRules, BadOptionsNameTheKey) {
  using test::error_of;
  const auto x = torch::randn({50, 4});
  SearchOptions o;
  o.index = "ivf";
  o.nlist = 100;
  EXPECT_NE(error_of([&] { knn_search(x, x, 3, o); }).find("neighbors.nlist"), std::string::npos);
  o.nlist = 10;
  o.nprobe = 11;
  EXPECT_NE(error_of([&] { knn_search(x, x, 3, o); }).find("neighbors.nprobe"), std::string::npos);
  o = SearchOptions{};
  o.backend = "torch";
  o.index = "hnsw";
  EXPECT_NE(error_of([&] { knn_search(x, x, 3, o); }).find("neighbors.index"), std::string::npos);
  auto r = rules(3, true);
  r.tau_mode = "adaptive";
  r.tau = 1;
  EXPECT_NE(error_of([&] { build_table(x, r, SearchOptions{}); }).find("neighbors.tau"), std::string::npos);

  Config c;
  EXPECT_NE(error_of([&] { c.set("neighbors.tau_mode", "median"); }).find("neighbors.tau_mode"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set("neighbors.index", "lsh"); }).find("neighbors.index"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set("neighbors.nprobe", "0"); }).find("neighbors.nprobe"), std::string::npos);
  auto bad = [](std::vector<std::string> overrides) {
    return error_of([&] { load_config("", overrides); });
  };
  EXPECT_NE(bad({"neighbors.nlist=16", "neighbors.nprobe=32"}).find("neighbors.nprobe"), std::string::npos);
  EXPECT_NE(bad({"neighbors.backend=torch", "neighbors.index=ivf"}).find("neighbors.index"), std::string::npos);
  EXPECT_NE(bad({"neighbors.tau_mode=adaptive", "neighbors.tau=3"}).find("neighbors.tau"), std::string::npos);
  EXPECT_NE(bad({"neighbors.k=1", "neighbors.tau=3"}).find("neighbors.k=1"), std::string::npos);
  EXPECT_NE(bad({"neighbors.combine=union"}).find("neighbors.extra_priors"), std::string::npos);
  EXPECT_NE(bad({"neighbors.extra_priors=a.npy"}).find("neighbors.combine"), std::string::npos);
  EXPECT_NO_THROW(load_config("", {"neighbors.index=hnsw", "neighbors.tau=2.5", "neighbors.mutual=true"}));
}

TEST(NeighborRules, EveryTableOptionEntersTheFingerprint) {
  Dataset d;
  d.name = "rand";
  d.set_images(torch::randint(0, 255, {40, 1, 4, 4}, torch::kUInt8));
  d.mean = {0.5f};
  d.std = {0.25f};
  PixelPrior prior;
  const NeighborConfig base;
  const auto fp0 = table_fingerprint(prior, d, base);
  std::set<std::string> seen = {fp0};
  auto differs = [&](auto edit) {
    NeighborConfig c = base;
    edit(c);
    return seen.insert(table_fingerprint(prior, d, c)).second;
  };
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.backend = "torch"; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "ivf"; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "ivf", c.search.nprobe = 4; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "ivf", c.search.nlist = 5, c.search.nprobe = 2; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "ivf", c.search.seed = 3; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "ivf", c.search.ivf_train_size = 30; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "hnsw"; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "hnsw", c.search.ef_search = 7; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "hnsw", c.search.hnsw_m = 8; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.search.index = "hnsw", c.search.ef_construction = 9; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.rules.tau = 2; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.rules.tau_mode = "adaptive"; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.rules.tau_mode = "adaptive", c.rules.tau_std = 0; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.rules.tau_mode = "adaptive", c.rules.tau_window = 5; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.rules.tau_mode = "adaptive_row"; }));
  EXPECT_TRUE(differs([](NeighborConfig& c) { c.rules.mutual = true; }));
  // index=auto below the threshold is the exact search: the same table.
  NeighborConfig exact = base;
  exact.search.index = "exact";
  EXPECT_EQ(table_fingerprint(prior, d, exact), fp0);
}

TEST(NeighborRules, ObtainTableCombinesExtraNpyPriors) {
  test::TempDir tmp;
  Dataset d;
  d.name = "rand";
  d.set_images(torch::randint(0, 255, {30, 1, 4, 4}, torch::kUInt8));
  d.mean = {0.5f};
  d.std = {0.25f};
  torch::manual_seed(12);
  save_npy(tmp.file("b.npy"), torch::randn({30, 3}));
  PixelPrior prior;
  NeighborConfig cfg;
  cfg.rules.k = 4;
  cfg.rules.exclude_self = true;
  cfg.combine = "intersection";
  cfg.extra_priors = tmp.file("b.npy");
  TableInfo info;
  const auto t = obtain_table(prior, d, cfg, tmp.file("cache"), &info);
  EXPECT_NE(info.fingerprint.find("combine=intersection(npy("), std::string::npos);
  const auto want = build_table_multi({prior.embed(d), load_npy(tmp.file("b.npy"))}, cfg.rules,
                                      search_options(cfg), "intersection");
  EXPECT_TRUE(torch::equal(t.ids, want.ids));
  EXPECT_TRUE(torch::equal(t.counts, want.counts));
  cfg.combine = "union";
  TableInfo u;
  obtain_table(prior, d, cfg, tmp.file("cache"), &u);
  EXPECT_NE(u.dir, info.dir);
  cfg.extra_priors = tmp.file("missing.npy");
  EXPECT_NE(test::error_of([&] { obtain_table(prior, d, cfg, tmp.file("cache")); }).find("neighbors.extra_priors"),
            std::string::npos);
}
