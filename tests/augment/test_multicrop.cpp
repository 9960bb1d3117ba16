// Multi-crop: the views a preset with augment.local_crops declares, their
// sizes, their streams, and what stays as it was without local crops.
#include "gps/augment/augment.h"
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

using namespace gps;
using ::testing::HasSubstr;

namespace {

torch::Tensor images(int64_t n, int64_t hw) {
  torch::manual_seed(3);
  return torch::randint(0, 256, {n, 3, hw, hw}, torch::kUInt8);
}

const std::vector<float> kMean = {0.5f, 0.5f, 0.5f}, kStd = {0.25f, 0.25f, 0.25f};

}  // namespace

TEST(MultiCrop, DeclaresGlobalThenAlternatingLocalViews) {
  AugmentConfig c;
  c.preset = "symmetric";
  c.local_crops = 4;
  auto a = make_augmentation(c, kMean, kStd);
  EXPECT_EQ(a->views(), (std::vector<ViewOf>{ViewOf::anchor, ViewOf::positive, ViewOf::anchor, ViewOf::positive,
                                             ViewOf::anchor, ViewOf::positive}));
  EXPECT_THAT(a->describe(), HasSubstr("+ 4 x local"));
  const auto x = images(5, 28);
  const auto keys = torch::arange(5, torch::kInt64);
  EXPECT_EQ(a->apply(x, keys, 1, 0).sizes(), (std::vector<int64_t>{5, 3, 28, 28}));
  EXPECT_EQ(a->apply(x, keys, 1, 2).sizes(), (std::vector<int64_t>{5, 3, 12, 12}));  // 3/7 of 28
  EXPECT_THROW(a->apply(x, keys, 1, 6), gps::Error);
  c.local_size = 16;
  c.crop_size = 32;
  auto b = make_augmentation(c, kMean, kStd);
  EXPECT_EQ(b->apply(x, keys, 1, 5).size(-1), 16);
  EXPECT_EQ(b->apply(x, keys, 1, 1).size(-1), 32);
}

TEST(MultiCrop, WithoutLocalCropsEveryPresetIsAsBefore) {
  const auto x = images(6, 16);
  const auto keys = torch::arange(6, torch::kInt64);
  for (const std::string preset : {"weak", "weak-rrc", "symmetric", "symmetric-weak", "asymmetric", "vicreg"}) {
    AugmentConfig c;
    c.preset = preset;
    auto a = make_augmentation(c, kMean, kStd);
    EXPECT_EQ(a->views().size(), 2u) << preset;
    // Local crops add views after the global ones and leave those unchanged.
    AugmentConfig m = c;
    m.local_crops = 2;
    auto b = make_augmentation(m, kMean, kStd);
    for (int v : {0, 1})
      EXPECT_TRUE(torch::equal(a->apply(x, keys, 7, v), b->apply(x, keys, 7, v))) << preset << " view " << v;
  }
}

TEST(MultiCrop, EveryViewHasItsOwnStreamAndTheGlobalOnesKeepTheirs) {
  std::set<uint64_t> streams;
  for (int64_t epoch = 0; epoch < 20; ++epoch)
    for (int view = 0; view < 10; ++view) streams.insert(view_stream(5, epoch, view));
  EXPECT_EQ(streams.size(), 200u);
  // Views 0 and 1: the formula of every earlier version (bit-identical runs).
  EXPECT_EQ(view_stream(5, 3, 1), mix64(5 ^ mix64(3 * 2 + 1)));
}

TEST(MultiCrop, ContradictoryOptionsAreNamed) {
  Config c;
  EXPECT_THAT(test::error_of([&] { load_config("", {"augment.preset=none", "augment.local_crops=2"}); }),
              HasSubstr("augment.local_crops needs a preset that augments"));
  EXPECT_THAT(test::error_of([&] { load_config("", {"augment.local_min_scale=0.5", "augment.local_scale=0.4"}); }),
              HasSubstr("augment.local_min_scale (0.5) and augment.local_scale (0.4)"));
}
