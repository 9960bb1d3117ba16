// A step's views: the augmentation declares them (anchors' view, then the
// positives' view), and view k is augmentation k of those images under the
// step's stream, so `gps batch`, gps_ssl and the trainer agree.
#include "gps/augment/augment.h"
#include "gps/data/registry.h"
#include "gps/train/step_batch.h"
#include "test_util.h"

#include <gtest/gtest.h>

using namespace gps;

TEST(StepBatch, ViewsAreTheAugmentationsDeclaredViews) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 10);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.augment.preset = "strong";
  const Dataset data = load_dataset(c.data, "train");
  const auto augment = make_augmentation(augment_for(c), data.mean, data.std);
  ASSERT_EQ(augment->views(), (std::vector<ViewOf>{ViewOf::anchor, ViewOf::positive}));
  PairBatch pairs{torch::tensor({0, 1, 2, 3}, torch::kInt64), torch::tensor({5, 6, 7, 8}, torch::kInt64),
                  torch::tensor({10, 11, 12, 13}, torch::kInt64)};
  const StepBatch b = make_step_batch(pairs, *augment, data, /*seed=*/7, /*epoch=*/2, /*labels=*/true);
  ASSERT_EQ(b.views.size(), 2u);
  EXPECT_EQ(b.views[0].of, ViewOf::anchor);
  EXPECT_EQ(b.views[1].of, ViewOf::positive);
  EXPECT_EQ(b.views[0].size(), 8);
  EXPECT_STREQ(view_of_name(b.views[1].of), "positive");
  const auto x0 = augment->apply(data.all_images().index_select(0, pairs.anchors), pairs.positions, view_stream(7, 2, 0), 0);
  const auto x1 = augment->apply(data.all_images().index_select(0, pairs.positives), pairs.positions, view_stream(7, 2, 1), 1);
  EXPECT_TRUE(torch::equal(b.views[0].images, x0));
  EXPECT_TRUE(torch::equal(b.views[1].images, x1));
  EXPECT_TRUE(torch::equal(b.labels, data.labels.index_select(0, pairs.anchors)));
}
