#include "gps/sampling/pair_sampler.h"
#include "gps/core/check.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace gps;

TEST(PairSampler, SelfTableGivesAnchorAsPositive) {
  PairSampler s(self_table(100), 10, 7);
  for (int64_t e = 0; e < 3; ++e) {
    auto order = s.epoch_order(e);
    for (int64_t b = 0; b < s.batches_per_epoch(); ++b) {
      auto pb = s.batch(e, order, b);
      EXPECT_TRUE(torch::equal(pb.anchors, pb.positives));
    }
  }
}

TEST(PairSampler, EpochVisitsEveryAnchorOnce) {
  PairSampler s(self_table(97), 10, 3);
  auto order = s.epoch_order(0);
  EXPECT_TRUE(torch::equal(std::get<0>(order.sort()), torch::arange(97, torch::kInt64)));
  EXPECT_EQ(s.batches_per_epoch(), 9);  // drop_last
  EXPECT_FALSE(torch::equal(s.epoch_order(0), s.epoch_order(1)));
  EXPECT_TRUE(torch::equal(s.epoch_order(2), PairSampler(self_table(97), 10, 3).epoch_order(2)));
}

TEST(PairSampler, DrawsAreUniformOverCandidates) {
  // Row 0 has 4 candidates, row 1 has 2 valid of 4 slots.
  NeighborTable t;
  t.ids = torch::tensor({0, 5, 6, 7, 1, 8, 0, 0}, torch::kInt64).view({2, 4});
  t.dists = torch::zeros({2, 4});
  t.counts = torch::tensor({4, 2}, torch::kInt64);
  NeighborTable full = self_table(10);
  // Embed the two rows in a 10-row table.
  full.ids = torch::cat({t.ids, torch::arange(2, 10, torch::kInt64).unsqueeze(1).repeat({1, 4})}, 0);
  full.dists = torch::zeros({10, 4});
  full.counts = torch::cat({t.counts, torch::ones({8}, torch::kInt64)});
  PairSampler s(full, 2, 11);
  const int draws = 40000;
  std::map<int64_t, int> c0, c1;
  for (int e = 0; e < draws; ++e) {
    c0[s.positive(e, 0)]++;
    c1[s.positive(e, 1)]++;
  }
  ASSERT_EQ(c0.size(), 4u);
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_EQ(c1.count(0), 0u) << "invalid padding slots must never be drawn";
  // Pearson chi-square against uniform; 3 dof: 99.9% quantile 16.27, 1 dof: 10.83.
  double chi0 = 0, chi1 = 0;
  for (auto& [id, n] : c0) chi0 += std::pow(n - draws / 4.0, 2) / (draws / 4.0);
  for (auto& [id, n] : c1) chi1 += std::pow(n - draws / 2.0, 2) / (draws / 2.0);
  EXPECT_LT(chi0, 16.27);
  EXPECT_LT(chi1, 10.83);
}

TEST(PairSampler, PositiveDependsOnlyOnSeedEpochAnchor) {
  NeighborTable t;
  t.ids = torch::randint(0, 50, {50, 5}, torch::kInt64);
  t.dists = torch::zeros({50, 5});
  t.counts = torch::full({50}, 5, torch::kInt64);
  PairSampler a(t, 10, 5), b(t, 25, 5);
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(a.positive(3, i), b.positive(3, i));
}

TEST(PairSampler, BatchLargerThanDatasetIsAnError) {
  try {
    PairSampler s(self_table(8), 16, 0);
    FAIL();
  } catch (const gps::Error& e) {
    EXPECT_NE(std::string(e.what()).find("optim.batch_size"), std::string::npos);
  }
}
