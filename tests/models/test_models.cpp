#include "gps/core/check.h"
#include "gps/models/resnet.h"

#include <gtest/gtest.h>

using namespace gps;

namespace {
int64_t count_params(torch::nn::Module& m) {
  int64_t n = 0;
  for (auto& p : m.parameters()) n += p.numel();
  return n;
}
}  // namespace

// Parameter counts of torchvision's resnet18 / resnet50 without the final fc layer.
TEST(ResNet, ParameterCountsMatchTorchvision) {
  ResNet r18(3, 64, /*small_stem=*/false, 2, "resnet18");
  ResNet r50(3, 64, /*small_stem=*/false, 2, "resnet50");
  EXPECT_EQ(count_params(*r18), 11689512 - (512 * 1000 + 1000));
  EXPECT_EQ(count_params(*r50), 25557032 - (2048 * 1000 + 1000));
  EXPECT_EQ(r18->feature_dim(), 512);
  EXPECT_EQ(r50->feature_dim(), 2048);
}

TEST(ResNet, SmallStemShapesForGrayAndColour) {
  for (const std::string arch : {"resnet18", "resnet50"}) {
    for (int64_t c : {1, 3}) {
      ResNet net(c, 2, true, 2, arch);
      auto y = net(torch::randn({3, c, 28, 28}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, net->feature_dim()})) << arch;
      ResNet big(c, 2, false, 2, arch);
      EXPECT_EQ(big(torch::randn({2, c, 64, 64})).size(1), big->feature_dim());
    }
  }
  EXPECT_THROW(ResNet(2, 8, true, 2, "resnet18"), gps::Error);
  EXPECT_THROW(ResNet(3, 8, true, 2, "resnet34"), gps::Error);
}
