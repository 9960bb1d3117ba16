#include "gps/augment/augment.h"
#include "gps/augment/blur.h"
#include "gps/augment/color.h"
#include "gps/augment/geometry.h"
#include "gps/augment/grid.h"
#include "gps/augment/pipeline.h"
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/io/image.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

using namespace gps;
using gps::test::error_of;

namespace {

torch::Tensor random_u8(std::vector<int64_t> shape, int64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, shape, torch::kInt64).to(torch::kUInt8);
}

AugmentConfig preset(const std::string& name, int64_t crop_size = 0) {
  AugmentConfig c;
  c.preset = name;
  c.crop_size = crop_size;
  return c;
}

const std::vector<std::string> kPresets = {"none", "weak", "weak-rrc", "symmetric", "symmetric-weak", "asymmetric", "vicreg"};

}  // namespace

TEST(Augment, FlipIsExact) {
  for (int64_t C : {1, 3}) {
    auto img = random_u8({C, 28, 31}, C);
    EXPECT_TRUE(torch::equal(hflip(img), img.flip({2})));
  }
}

TEST(Augment, GrayscaleUsesLumaWeights) {
  auto img = random_u8({3, 32, 32}, 1);
  auto g = to_grayscale(img);
  ASSERT_EQ(g.sizes(), img.sizes());
  EXPECT_TRUE(torch::equal(g[0], g[1]) && torch::equal(g[0], g[2]));
  auto f = img.to(torch::kFloat64);
  auto luma = (0.299 * f[0] + 0.587 * f[1] + 0.114 * f[2]).round();
  EXPECT_LE((g[0].to(torch::kFloat64) - luma).abs().max().item<double>(), 1.0);
  auto one = random_u8({1, 28, 28}, 2);
  EXPECT_TRUE(torch::equal(to_grayscale(one), one));
}

TEST(Augment, SolarizeInvertsFromThreshold) {
  auto img = torch::arange(256, torch::kInt64).to(torch::kUInt8).view({1, 16, 16});
  auto s = solarize(img).view({256});
  for (int v = 0; v < 256; ++v) EXPECT_EQ(s[v].item<int>(), v >= 128 ? 255 - v : v) << v;
}

TEST(Augment, EqualizeKnownHistogram) {
  // 1024 pixels: 256 at 10, 256 at 20, 512 at 30. step = (1024 - 512) / 255 = 2,
  // lut(10) = 1/2 = 0, lut(20) = (1 + 256)/2 = 128, lut(30) = (1 + 512)/2 -> 255.
  auto img = torch::full({1, 32, 32}, 30, torch::kUInt8);
  img.view({1024}).narrow(0, 0, 256).fill_(10);
  img.view({1024}).narrow(0, 256, 256).fill_(20);
  auto e = equalize(img).view({1024});
  EXPECT_EQ(e[0].item<int>(), 0);
  EXPECT_EQ(e[300].item<int>(), 128);
  EXPECT_EQ(e[1000].item<int>(), 255);
  auto flat = torch::full({3, 8, 8}, 77, torch::kUInt8);  // one level: unchanged
  EXPECT_TRUE(torch::equal(equalize(flat), flat));
}

TEST(Augment, CropBoxesInsideWithinScaleAndRatio) {
  for (auto [H, W] : {std::pair<int64_t, int64_t>{224, 224}, {28, 28}, {32, 48}}) {
    for (int i = 0; i < 5000; ++i) {
      Rng rng(7, uint64_t(H * 1000 + W), uint64_t(i));
      const CropBox b = random_resized_crop_box(H, W, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, rng);
      ASSERT_GE(b.top, 0);
      ASSERT_GE(b.left, 0);
      ASSERT_GE(b.height, 1);
      ASSERT_GE(b.width, 1);
      ASSERT_LE(b.top + b.height, H);
      ASSERT_LE(b.left + b.width, W);
      if (H == 224) {  // large enough that rounding w, h barely moves area and ratio
        const double area = double(b.height * b.width) / double(H * W), ratio = double(b.width) / double(b.height);
        ASSERT_GE(area, 0.08 * 0.97);
        ASSERT_LE(area, 1.0);
        ASSERT_GE(ratio, 0.75 * 0.97);
        ASSERT_LE(ratio, 4.0 / 3.0 * 1.03);
      }
    }
  }
}

TEST(Augment, CropFallsBackToCentralCrop) {
  // A 10 x 1000 strip fits no box of area >= 90% with aspect <= 4/3.
  Rng rng(1);
  const CropBox b = random_resized_crop_box(10, 1000, 0.9, 1.0, 3.0 / 4.0, 4.0 / 3.0, rng);
  EXPECT_EQ(b.height, 10);
  EXPECT_EQ(b.width, 13);
  EXPECT_EQ(b.top, 0);
  EXPECT_EQ(b.left, (1000 - 13) / 2);
}

TEST(Augment, AnAspectRatioNoSideCanHoldFallsBackToAWholeImageBox) {
  // Ratios up to 5e51 (a fuzzer case): sqrt(area * ratio) is far beyond int64, so every attempt is
  // rejected as a double and the central-crop fallback clamps the side to the image.
  Rng rng(2);
  for (int i = 0; i < 20; ++i) {
    const CropBox b = random_resized_crop_box(28, 28, 0.08, 0.9, 0.1, 5e51, rng);
    EXPECT_GE(b.height, 1);
    EXPECT_GE(b.width, 1);
    EXPECT_LE(b.top + b.height, 28);
    EXPECT_LE(b.left + b.width, 28);
  }
  Rng rng2(3);
  const CropBox wide = random_resized_crop_box(28, 28, 0.9, 1.0, 1e40, 1e50, rng2);  // only a 1-row box
  EXPECT_EQ(wide.height, 1);
  EXPECT_EQ(wide.width, 28);
}

TEST(Augment, ResizedCropOfWholeImageAtSameSizeIsIdentity) {
  auto img = random_u8({3, 28, 28}, 3);
  EXPECT_TRUE(torch::equal(resized_crop(img, {0, 0, 28, 28}, 28, 28, Interp::bicubic), img));
  EXPECT_EQ(resized_crop(img, {2, 3, 10, 12}, 224, 224, Interp::bicubic).sizes(), torch::IntArrayRef({3, 224, 224}));
  EXPECT_NE(error_of([&] { resized_crop(img, {20, 0, 10, 10}, 8, 8, Interp::bilinear); }).find("outside"),
            std::string::npos);
}

TEST(Augment, JitterFactorsWithinRanges) {
  const JitterStrength s{0.8, 0.8, 0.8, 0.2};
  std::set<int> first;
  for (int i = 0; i < 4000; ++i) {
    Rng rng(3, uint64_t(i));
    const JitterParams p = sample_jitter(s, rng);
    for (double f : {p.brightness, p.contrast, p.saturation}) {
      ASSERT_GE(f, 0.2);
      ASSERT_LE(f, 1.8);
    }
    ASSERT_GE(p.hue, -0.2);
    ASSERT_LE(p.hue, 0.2);
    std::set<int> ops(p.order.begin(), p.order.end());
    ASSERT_EQ(ops, (std::set<int>{0, 1, 2, 3}));
    first.insert(p.order[0]);
  }
  EXPECT_EQ(first.size(), 4u);
  Rng rng(4);
  const JitterParams id = sample_jitter({0, 0, 0, 0}, rng);
  EXPECT_EQ(id.brightness, 1.0);
  EXPECT_EQ(id.hue, 0.0);
  EXPECT_NE(error_of([&] { sample_jitter({0, 0, 0, 0.7}, rng); }).find("hue"), std::string::npos);
}

TEST(Augment, JitterBlendsLikePil) {
  auto img = torch::arange(256, torch::kInt64).to(torch::kUInt8).view({1, 16, 16});
  JitterParams p;
  p.brightness = 0.5;
  auto b = color_jitter(img, p).view({256});
  for (int v = 0; v < 256; ++v) ASSERT_EQ(b[v].item<int>(), int(float(v) * 0.5f)) << v;
  p.brightness = 1;
  p.saturation = 0.3;  // no-ops on one channel
  p.hue = 0.1;
  EXPECT_TRUE(torch::equal(color_jitter(img, p), img));
  auto rgb = random_u8({3, 16, 16}, 5);
  JitterParams s0;
  s0.saturation = 0.0;  // fully desaturated = grayscale
  auto d = color_jitter(rgb, s0);
  EXPECT_TRUE(torch::equal(d, to_grayscale(rgb)));
}

TEST(Augment, BlurOfOnePixelIsANormalisedGaussian) {
  EXPECT_EQ(blur_kernel_size(0.1), 3);
  EXPECT_EQ(blur_kernel_size(1.0), 7);
  EXPECT_EQ(blur_kernel_size(2.0), 13);
  for (double sigma : {0.7, 1.3, 2.0}) {
    auto img = torch::zeros({1, 31, 31}, torch::kUInt8);
    img[0][15][15] = 255;
    auto out = gaussian_blur(img, sigma)[0].to(torch::kFloat64);
    EXPECT_TRUE(torch::equal(out, out.flip({0})));
    EXPECT_TRUE(torch::equal(out, out.flip({1})));
    EXPECT_TRUE(torch::equal(out, out.t()));
    EXPECT_EQ(out.argmax().item<int64_t>(), 15 * 31 + 15);
    auto x = torch::arange(31, torch::kFloat64) - 15;
    auto g = torch::exp(-0.5 * (x / sigma).pow(2));
    g = g / g.sum();
    auto ref = 255.0 * torch::outer(g, g);
    EXPECT_LE((out - ref).abs().max().item<double>(), 1.5) << sigma;
    // Mass is kept up to uint8 rounding (faint tails round to 0: ~8% at sigma 2).
    EXPECT_NEAR(out.sum().item<double>(), 255.0, 255.0 * 0.1) << sigma;
  }
  EXPECT_NE(error_of([] { gaussian_blur(torch::zeros({1, 8, 8}, torch::kUInt8), 0.0); }).find("sigma"),
            std::string::npos);
}

TEST(Augment, SameKeySameOutputAnyBatchOrThreadCount) {
  auto aug = make_augmentation(preset("symmetric"), {0.5f, 0.4f, 0.3f}, {0.2f, 0.25f, 0.3f});
  auto images = random_u8({24, 3, 32, 32}, 9);
  auto keys = torch::arange(100, 124, torch::kInt64);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  auto one = aug->apply(images, keys, 42, 0);
  torch::set_num_threads(2);
  auto two = aug->apply(images, keys, 42, 0);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
  // A sample's output depends on its (stream, key) only, not its batch position.
  auto sub = aug->apply(images.narrow(0, 5, 3), keys.narrow(0, 5, 3), 42, 0);
  EXPECT_TRUE(torch::equal(sub, one.narrow(0, 5, 3)));
  EXPECT_FALSE(torch::equal(aug->apply(images, keys, 43, 0), one));
}

TEST(Augment, PresetsHandleOneAndThreeChannelsAndSizes) {
  for (const auto& name : kPresets) {
    for (auto [C, S] : {std::pair<int64_t, int64_t>{1, 28}, {3, 224}, {3, 32}}) {
      for (int64_t crop : {int64_t(0), int64_t(32)}) {
        std::vector<float> mean(size_t(C), 0.5f), std(size_t(C), 0.25f);
        auto aug = make_augmentation(preset(name, crop), mean, std);
        auto images = random_u8({3, C, S, S}, C + S);
        for (int view : {0, 1}) {
          auto out = aug->apply(images, torch::arange(3, torch::kInt64), 5, view);
          const int64_t want = crop > 0 ? crop : S;
          ASSERT_EQ(out.sizes(), torch::IntArrayRef({3, C, want, want})) << name;
          ASSERT_EQ(out.scalar_type(), torch::kFloat32);
          ASSERT_TRUE(torch::isfinite(out).all().item<bool>()) << name;
          ASSERT_LE(out.abs().max().item<float>(), 2.0f / 0.25f + 1e-4f) << name;
        }
      }
    }
  }
}

TEST(Augment, WeakPipelineMatchesFlipAugmentation) {
  // weak with crop_size = input size runs the pipeline (resize no-op + flip);
  // it must draw and compute exactly as the original flip-only class.
  std::vector<float> mean{0.3f}, std{0.2f};
  auto flip_only = make_augmentation(preset("weak"), mean, std);
  auto pipeline = make_augmentation(preset("weak", 28), mean, std);
  EXPECT_NE(flip_only->describe(), pipeline->describe());
  auto images = random_u8({32, 1, 28, 28}, 11);
  auto keys = torch::arange(32, torch::kInt64) * 7;
  EXPECT_TRUE(torch::equal(flip_only->apply(images, keys, 99, 0), pipeline->apply(images, keys, 99, 1)));
  auto none = make_augmentation(preset("none"), mean, std);
  EXPECT_TRUE(torch::equal(none->apply(images, keys, 1, 0), to_normalized_float(images, mean, std)));
}

TEST(Augment, AsymmetricViewsDiffer) {
  auto aug = make_augmentation(preset("asymmetric"), {0.5f, 0.5f, 0.5f}, {0.2f, 0.2f, 0.2f});
  EXPECT_NE(aug->describe().find(" / "), std::string::npos);
  EXPECT_NE(aug->describe().find("solarize 0.2"), std::string::npos);
  auto images = random_u8({64, 3, 32, 32}, 12);
  auto keys = torch::arange(64, torch::kInt64);
  // Same stream: crops and jitter agree, then view 1's solarize coin shifts
  // the flip draw, so many (not all) samples differ.
  auto v0 = aug->apply(images, keys, 5, 0), v1 = aug->apply(images, keys, 5, 1);
  const auto differs = (v0 != v1).flatten(1).any(1).sum().item<int64_t>();
  EXPECT_GT(differs, 10);
  EXPECT_LT(differs, 64);
}

TEST(Augment, BadInputNamesTheOption) {
  auto aug = make_augmentation(preset("symmetric"), {0.5f}, {0.2f});
  auto keys = torch::arange(2, torch::kInt64);
  EXPECT_NE(error_of([&] { aug->apply(torch::zeros({2, 1, 8, 8}), keys, 0, 0); }).find("uint8"), std::string::npos);
  EXPECT_NE(error_of([&] { aug->apply(torch::zeros({2, 3, 8, 8}, torch::kUInt8), keys, 0, 0); }).find("channels"),
            std::string::npos);
  EXPECT_NE(error_of([&] { aug->apply(torch::zeros({2, 1, 8, 8}, torch::kUInt8), keys, 0, 2); }).find("view"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_augmentation(preset("wild"), {0.5f}, {0.2f}); }).find("augment.preset"),
            std::string::npos);
  EXPECT_NE(error_of([] { to_grayscale(torch::zeros({2, 8, 8}, torch::kUInt8)); }).find("channels"),
            std::string::npos);
  Config c;
  EXPECT_NE(error_of([&] { c.apply_overrides({"augment.crop_size=-1"}); }).find("augment.crop_size"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.apply_overrides({"augment.preset=strongest"}); }).find("augment.preset"),
            std::string::npos);
  c.apply_overrides({"augment.preset=weak", "augment.min_scale=0.3"});
  EXPECT_NE(error_of([&] { c.validate(); }).find("augment.min_scale"), std::string::npos);
  c.apply_overrides({"augment.preset=strong", "augment.min_scale=0.5", "augment.max_scale=0.4"});
  EXPECT_NE(error_of([&] { c.validate(); }).find("augment.max_scale"), std::string::npos);
  c.apply_overrides({"augment.max_scale=0.9", "augment.crop_size=24"});
  c.validate();
  auto custom = make_augmentation(augment_for(c), {0.5f}, {0.2f});
  EXPECT_NE(custom->describe().find("rrc 0.5-0.9 to 24"), std::string::npos);
}

TEST(Augment, GridAndPng) {
  Dataset d;
  d.name = "tiny";
  d.set_images(random_u8({10, 1, 28, 28}, 13));
  d.mean = {0.5f};
  d.std = {0.25f};
  auto aug = make_augmentation(preset("symmetric"), d.mean, d.std);
  auto grid = augment_grid(d, *aug, 4, 3, 7);
  ASSERT_EQ(grid.sizes(), torch::IntArrayRef({3, 4 * 30 + 2, 4 * 30 + 2}));
  EXPECT_EQ(grid.scalar_type(), torch::kUInt8);
  // The first column holds the originals, exactly.
  EXPECT_TRUE(torch::equal(grid[0].narrow(0, 2, 28).narrow(1, 2, 28), d.all_images()[0][0]));
  EXPECT_TRUE(torch::equal(augment_grid(d, *aug, 4, 3, 7), grid));
  test::TempDir tmp;
  save_png(tmp.file("grid.png"), grid);
  std::ifstream f(tmp.file("grid.png"), std::ios::binary);
  char magic[4] = {};
  f.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_NE(error_of([&] { save_png(tmp.file("grid.jpg"), grid); }).find(".png"), std::string::npos);
  EXPECT_NE(error_of([&] { save_png(tmp.file("no/such/dir/g.png"), grid); }).find("cannot write"),
            std::string::npos);
}
