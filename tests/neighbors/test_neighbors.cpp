#include "gps/neighbors/neighbor_table.h"
#include "gps/neighbors/knn_search.h"
#include "gps/neighbors/table_cache.h"
#include "gps/prior/pca.h"
#include "gps/prior/pixel_prior.h"
#include "gps/core/check.h"
#include "gps/io/npy.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace gps;

namespace {

// Brute-force squared-L2 neighbours of row i among rows != i, sorted by (distance, id).
std::vector<std::pair<double, int64_t>> brute_force(const torch::Tensor& x, int64_t i) {
  auto xd = x.to(torch::kFloat64);
  std::vector<std::pair<double, int64_t>> out;
  for (int64_t j = 0; j < x.size(0); ++j) {
    if (j == i) continue;
    out.push_back({(xd[i] - xd[j]).pow(2).sum().item<double>(), j});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Neighbors, ExactSearchMatchesBruteForce) {
  torch::manual_seed(1);
  auto x = torch::randn({200, 16});
  for (bool exclude : {true, false}) {
    const int64_t k = 5;
    auto t = build_table(x, k, exclude, "l2");
    t.validate(200, "test");
    for (int64_t i = 0; i < 200; ++i) {
      auto ref = brute_force(x, i);
      int64_t col = 0;
      if (!exclude) {
        EXPECT_EQ(t.ids[i][0].item<int64_t>(), i);
        EXPECT_EQ(t.dists[i][0].item<float>(), 0.0f);
        col = 1;
      }
      for (int64_t r = 0; col < k; ++col, ++r) {
        EXPECT_EQ(t.ids[i][col].item<int64_t>(), ref[r].second) << "row " << i << " col " << col;
        EXPECT_NEAR(t.dists[i][col].item<float>(), ref[r].first, 1e-3 * (1 + ref[r].first));
      }
    }
  }
}

TEST(Neighbors, DuplicatePointsKeepSelfRulesByIndex) {
  // Rows 0..3 are identical: each one's duplicates are at distance 0 and may
  // come before it in the search results; the table must still treat the
  // image itself by index.
  auto x = torch::zeros({10, 3});
  for (int64_t i = 4; i < 10; ++i) x[i] = torch::full({3}, float(i));
  auto ex = build_table(x, 3, true, "l2");
  for (int64_t i = 0; i < 4; ++i) {
    std::set<int64_t> got;
    for (int64_t c = 0; c < 3; ++c) got.insert(ex.ids[i][c].item<int64_t>());
    EXPECT_EQ(got.count(i), 0u) << "self must be excluded in row " << i;
    std::set<int64_t> dup = {0, 1, 2, 3};
    dup.erase(i);
    EXPECT_EQ(got, dup);
    EXPECT_EQ(ex.dists[i].sum().item<float>(), 0.0f);
  }
  auto in = build_table(x, 3, false, "l2");
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(in.ids[i][0].item<int64_t>(), i);
    for (int64_t c = 1; c < 3; ++c) {
      EXPECT_NE(in.ids[i][c].item<int64_t>(), i);
      EXPECT_LT(in.ids[i][c].item<int64_t>(), 4);
    }
  }
}

TEST(Neighbors, KTooLargeIsAnError) {
  auto x = torch::randn({5, 2});
  EXPECT_THROW(build_table(x, 5, true, "l2"), gps::Error);
  EXPECT_NO_THROW(build_table(x, 5, false, "l2"));
  EXPECT_THROW(build_table(x, 6, false, "l2"), gps::Error);
}

TEST(Neighbors, CosineEqualsL2OnNormalisedVectors) {
  torch::manual_seed(2);
  auto x = torch::randn({100, 8});
  auto xn = x / x.norm(2, 1, true);
  auto a = knn_search(x, x, 6, "cosine");
  auto b = knn_search(xn, xn, 6, "l2");
  EXPECT_TRUE(torch::equal(a.ids, b.ids));
  EXPECT_TRUE(torch::allclose(a.dists, b.dists, 1e-5, 1e-5));
}

TEST(Neighbors, SelfTableAndPurity) {
  auto t = self_table(4);
  EXPECT_TRUE(t.is_self_only());
  NeighborTable u;
  u.ids = torch::tensor({0, 1, 1, 0, 2, 3, 3, 2}, torch::kInt64).view({4, 2});
  u.dists = torch::zeros({4, 2});
  u.counts = torch::full({4}, 2, torch::kInt64);
  auto labels = torch::tensor({0, 0, 1, 0}, torch::kInt64);
  // Candidates other than self: 0->1 (same), 1->0 (same), 2->3 (diff), 3->2 (diff).
  EXPECT_DOUBLE_EQ(candidate_label_purity(u, labels), 0.5);
}

// n random 1x4x4 images, as the table-cache tests use.
Dataset random_dataset(int64_t n) {
  Dataset d;
  d.name = "rand";
  d.set_images(torch::randint(0, 255, {n, 1, 4, 4}, torch::kUInt8));
  d.mean = {0.5f};
  d.std = {0.25f};
  return d;
}

TEST(Neighbors, SavedTableIsReusedOnlyWithSameFingerprint) {
  test::TempDir tmp;
  Dataset d = random_dataset(50);
  PixelPrior prior;
  NeighborConfig cfg;
  cfg.rules.k = 3;
  TableInfo a, b, c;
  auto t1 = obtain_table(prior, d, cfg, tmp.path.string(), &a);
  auto t2 = obtain_table(prior, d, cfg, tmp.path.string(), &b);
  EXPECT_FALSE(a.reused);
  EXPECT_TRUE(b.reused);
  EXPECT_TRUE(torch::equal(t1.ids, t2.ids));
  EXPECT_TRUE(std::filesystem::exists(a.dir + "/ids.npy"));
  EXPECT_EQ(load_npy(a.dir + "/ids.npy").sizes(), (std::vector<int64_t>{50, 3}));
  cfg.rules.k = 4;  // a different k is a different table
  obtain_table(prior, d, cfg, tmp.path.string(), &c);
  EXPECT_FALSE(c.reused);
  EXPECT_NE(c.dir, a.dir);
  d.all_images()[0][0][0][0] = 255 - d.all_images()[0][0][0][0].item<int>();  // different data
  cfg.rules.k = 3;
  TableInfo e;
  obtain_table(prior, d, cfg, tmp.path.string(), &e);
  EXPECT_FALSE(e.reused);
}

// The table is a cache: a flipped byte inside a file (ids still in range, so
// only the CRC-32 in meta.json can tell), a truncated file, or unreadable
// metadata is detected and the table built again, never used.
TEST(Neighbors, ADamagedSavedTableIsBuiltAgain) {
  test::TempDir tmp;
  Dataset d = random_dataset(50);
  PixelPrior prior;
  NeighborConfig cfg;
  cfg.rules.k = 3;
  TableInfo first;
  const auto want = obtain_table(prior, d, cfg, tmp.path.string(), &first);
  const std::string ids = first.dir + "/ids.npy";
  const std::string good = test::read_bytes(ids);
  auto damage = [&](const std::string& file, const std::string& bytes) {
    test::write_bytes(file, bytes);
    TableInfo info;
    const auto t = obtain_table(prior, d, cfg, tmp.path.string(), &info);
    EXPECT_FALSE(info.reused) << "a damaged " << file << " was used";
    EXPECT_TRUE(torch::equal(t.ids, want.ids));
    TableInfo again;
    obtain_table(prior, d, cfg, tmp.path.string(), &again);
    EXPECT_TRUE(again.reused) << "the rebuilt table is saved";
  };
  std::string flipped = good;
  // The last id: a neighbour of row 49; 1 -> 0 .. keeps it a valid id.
  flipped[flipped.size() - 8] = char(flipped[flipped.size() - 8] ^ 1);
  damage(ids, flipped);
  damage(ids, good.substr(0, good.size() / 2));
  damage(first.dir + "/counts.npy", "garbage");
  damage(first.dir + "/meta.json", "{ not json");
}

TEST(Prior, PcaProjectsOnLeadingComponents) {
  // Points on a line in 3-D: one component carries all variance.
  auto t = torch::linspace(-1, 1, 20).unsqueeze(1);
  auto x = torch::cat({t * 3, t * 4, torch::zeros_like(t)}, 1);
  auto p = pca_project(x, 1);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{20, 1}));
  EXPECT_TRUE(torch::allclose(p.abs().squeeze(1), (t * 5).abs().squeeze(1), 1e-4, 1e-4));
  EXPECT_THROW(pca_project(x, 4), gps::Error);
}
