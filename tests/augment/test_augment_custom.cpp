// Custom augmentation pipelines from config (augment.preset=custom): the op
// language, its errors, and equivalence with the built-in presets.
#include "test_util.h"

#include "gps/augment/augment.h"
#include "gps/augment/pipeline.h"
#include "gps/core/rng.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace {

using ::testing::HasSubstr;

torch::Tensor images(int64_t n, int64_t c, int64_t s) {
  torch::manual_seed(7);
  return torch::randint(0, 256, {n, c, s, s}, torch::kUInt8);
}

// Both views of a batch through `cfg`'s augmentation.
std::pair<torch::Tensor, torch::Tensor> views(const gps::AugmentConfig& cfg, const torch::Tensor& x) {
  auto aug = gps::make_augmentation(cfg, std::vector<float>(x.size(1), 0.5f), std::vector<float>(x.size(1), 0.25f));
  const auto keys = torch::arange(x.size(0), torch::kInt64);
  return {aug->apply(x, keys, 11, 0), aug->apply(x, keys, 12, 1)};
}

TEST(CustomPipeline, WritingOutAPresetGivesTheSameViews) {
  const auto x = images(16, 3, 32);
  gps::AugmentConfig preset;
  preset.preset = "asymmetric";
  gps::AugmentConfig custom;
  custom.preset = "custom";
  // The asymmetric preset: BYOL's views (docs/reference-behaviour.md §5), ops in any order.
  custom.view1 = "flip(0.5) crop(0.08, 1.0) jitter(0.8, 0.4, 0.4, 0.2, 0.1) gray(0.2)";
  custom.view2 = "crop; jitter(0.8,0.4,0.4,0.2,0.1); gray(0.2); solarize(0.2); flip";
  const auto a = views(preset, x), b = views(custom, x);
  EXPECT_TRUE(torch::equal(a.first, b.first));
  EXPECT_TRUE(torch::equal(a.second, b.second));
}

TEST(CustomPipeline, StrongPresetWithBlurAndCropSize) {
  const auto x = images(8, 3, 40);
  gps::AugmentConfig preset;
  preset.preset = "symmetric";
  preset.crop_size = 32;
  gps::AugmentConfig custom;
  custom.preset = "custom";
  custom.crop_size = 32;
  custom.view1 = "crop(0.08) jitter(0.8, 0.8, 0.8, 0.8, 0.2) gray(0.2) blur(0.5, 0.1, 2) flip(0.5)";
  const auto a = views(preset, x), b = views(custom, x);
  EXPECT_EQ(b.first.sizes(), (std::vector<int64_t>{8, 3, 32, 32}));
  EXPECT_TRUE(torch::equal(a.first, b.first));
  EXPECT_TRUE(torch::equal(a.second, b.second));
}

TEST(CustomPipeline, ParsesDefaultsAndArguments) {
  const auto s = gps::parse_pipeline_spec("crop(0.2) solarize(0.1, 100) equalize flip(1)", "augment.view1");
  EXPECT_TRUE(s.random_crop);
  EXPECT_DOUBLE_EQ(s.min_scale, 0.2);
  EXPECT_DOUBLE_EQ(s.max_scale, 1.0);
  EXPECT_DOUBLE_EQ(s.solarize_p, 0.1);
  EXPECT_EQ(s.solarize_threshold, 100);
  EXPECT_DOUBLE_EQ(s.equalize_p, 0.5);
  EXPECT_DOUBLE_EQ(s.flip_p, 1.0);
  EXPECT_DOUBLE_EQ(s.jitter_p, 0.0);
}

TEST(CustomPipeline, BadSpecsNameTheKeyAndTheProblem) {
  auto err = [](const std::string& spec) {
    return gps::test::error_of([&] { gps::parse_pipeline_spec(spec, "augment.view2"); });
  };
  EXPECT_THAT(err("rotate(30)"), HasSubstr("augment.view2: unknown op 'rotate'"));
  EXPECT_THAT(err("crop(0.2, big)"), HasSubstr("'big' is not a finite number"));
  EXPECT_THAT(err("crop(nan)"), HasSubstr("'nan' is not a finite number"));
  EXPECT_THAT(err("jitter(0.8, inf)"), HasSubstr("'inf' is not a finite number"));
  EXPECT_THAT(err("solarize(0.2, 1e100)"), HasSubstr("solarize threshold must be a whole number in [0, 256]"));
  EXPECT_THAT(err("solarize(0.2, 128.5)"), HasSubstr("got 128.5"));
  EXPECT_THAT(err("flip flip"), HasSubstr("flip appears twice"));
  EXPECT_THAT(err("gray(0.1, 0.2)"), HasSubstr("gray takes at most 1 arguments"));
  EXPECT_THAT(err("crop(0.9, 0.5)"), HasSubstr("augment.view2"));
  EXPECT_THAT(err("blur(1.5)"), HasSubstr("[0, 1]"));
  EXPECT_THAT(err("crop(0.2"), HasSubstr("missing ')'"));
  EXPECT_THAT(err("  ;  "), HasSubstr("no ops"));
}

TEST(CustomPipeline, ConfigRejectsContradictions) {
  gps::Config c;
  c.augment.view1 = "flip";
  EXPECT_THAT(gps::test::error_of([&] { c.validate(); }), HasSubstr("only apply to augment.preset=custom"));
  c.augment.preset = "custom";
  EXPECT_NO_THROW(c.validate());
  c.augment.view1.clear();
  EXPECT_THAT(gps::test::error_of([&] { c.validate(); }), HasSubstr("needs augment.view1"));
}

// A jitter strength beyond float's range (a case the fuzzer found, once
// undefined behaviour: inf * 0 cast to uint8) acts as the largest factor:
// with contrast alone, a pixel at the image mean stays, the others saturate.
TEST(CustomPipeline, AHugeJitterFactorSaturatesWithoutUndefinedBehaviour) {
  const auto spec = gps::parse_pipeline_spec("jitter(1, 0, 1e50, 0, 0)", "augment.view1");
  const auto image = torch::arange(144, torch::kInt64).to(torch::kUInt8).reshape({1, 12, 12});
  const int64_t mean = int64_t(std::floor(image.to(torch::kFloat64).mean().item<double>() + 0.5));
  gps::Rng rng(3, 1);
  const auto out = gps::augment_image(image, spec, gps::sample_params(spec, 12, 12, rng));
  const auto at_mean = image.eq(mean);
  ASSERT_EQ(at_mean.sum().item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(out.masked_select(at_mean), image.masked_select(at_mean)));
  EXPECT_TRUE(out.masked_select(image.lt(mean)).eq(0).all().item<bool>());
  EXPECT_TRUE(out.masked_select(image.gt(mean)).eq(255).all().item<bool>());
}

}  // namespace
