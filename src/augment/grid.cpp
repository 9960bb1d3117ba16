#include "gps/augment/grid.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

namespace gps {

namespace {

// [B, C, h, w] uint8 or normalised float -> [B, 3, h, w] uint8.
torch::Tensor to_rgb_u8(torch::Tensor x, const Dataset& d, bool normalised) {
  if (normalised) {
    const int64_t C = x.size(1);
    auto mean = torch::tensor(d.mean).view({1, C, 1, 1}), std = torch::tensor(d.std).view({1, C, 1, 1});
    x = (x * std + mean).mul(255.0).round().clamp(0, 255).to(torch::kUInt8);
  }
  return x.size(1) == 1 ? x.expand({x.size(0), 3, x.size(2), x.size(3)}) : x;
}

}  // namespace

torch::Tensor augment_grid(const Dataset& d, const Augmentation& aug, int n_images, int n_views, uint64_t seed) {
  GPS_CHECK(d.size() > 0, "augment_grid: empty dataset ", d.name);
  GPS_CHECK(n_images >= 1 && n_views >= 1, "augment_grid: need at least one image and one view, got ", n_images,
            " images and ", n_views, " views");
  const int64_t n = std::min<int64_t>(n_images, d.size());
  auto index = torch::arange(n, torch::kInt64).mul(d.size()).div(n, "floor");
  const auto images = d.fetch(index);
  auto originals = to_rgb_u8(images, d, false);
  std::vector<torch::Tensor> views;
  for (int v = 0; v < n_views; ++v)
    views.push_back(to_rgb_u8(aug.apply(images, index, mix64(seed + uint64_t(v)), v % 2),
                              d, true));
  const int64_t S = std::max({originals.size(2), originals.size(3), views[0].size(2), views[0].size(3)});
  constexpr int64_t kGap = 2;
  const int64_t cols = 1 + n_views;
  auto grid = torch::full({3, n * (S + kGap) + kGap, cols * (S + kGap) + kGap}, 255, torch::kUInt8);
  auto place = [&](const torch::Tensor& img, int64_t r, int64_t c) {
    const int64_t y = kGap + r * (S + kGap), x = kGap + c * (S + kGap);
    grid.narrow(1, y, img.size(1)).narrow(2, x, img.size(2)).copy_(img);
  };
  for (int64_t r = 0; r < n; ++r) {
    place(originals[r], r, 0);
    for (int v = 0; v < n_views; ++v) place(views[size_t(v)][r], r, 1 + v);
  }
  return grid;
}

}  // namespace gps
