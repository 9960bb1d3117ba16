#include "gps/augment/pil_resize.h"

#include "gps/core/check.h"

#include <ATen/Parallel.h>

#include <cfenv>
#include <cmath>
#include <vector>

namespace gps {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS

double filter_value(PilFilter f, double x) {
  x = std::fabs(x);
  if (f == PilFilter::bilinear) return x < 1.0 ? 1.0 - x : 0.0;
  constexpr double a = -0.5;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

double filter_support(PilFilter f) { return f == PilFilter::bilinear ? 1.0 : 2.0; }

// One axis: for every output position, the first input index, the count,
// and fixed-point coefficients (Pillow's precompute_coeffs and
// normalize_coeffs_8bpc).
struct Coeffs {
  int64_t ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> k;  // [out, ksize]
};

Coeffs precompute(int64_t in_size, int64_t out_size, PilFilter f) {
  const double scale = double(in_size) / double(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = filter_support(f) * filterscale;
  Coeffs c;
  c.ksize = int64_t(std::ceil(support)) * 2 + 1;
  c.first.resize(size_t(out_size));
  c.count.resize(size_t(out_size));
  c.k.assign(size_t(out_size * c.ksize), 0);
  std::vector<double> w(size_t(c.ksize));
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (double(xx) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = int(in_size);
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; ++x) {
      w[size_t(x)] = filter_value(f, (double(x + xmin) - center + 0.5) * ss);
      ww += w[size_t(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[size_t(x)] / ww : w[size_t(x)];
      const double s = v * double(1 << kPrecisionBits);
      c.k[size_t(xx * c.ksize + x)] = int32_t(v < 0 ? -0.5 + s : 0.5 + s);
    }
    c.first[size_t(xx)] = xmin;
    c.count[size_t(xx)] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t v) {
  const int32_t s = v >> kPrecisionBits;  // arithmetic shift, as Pillow's lookup index
  return uint8_t(s < 0 ? 0 : s > 255 ? 255 : s);
}

// One plane [h, w] -> [out_h, out_w]: the horizontal pass (over the rows the
// vertical pass reads) first, then the vertical one; each rounds to uint8.
void resize_plane(const uint8_t* in, int64_t h, int64_t w, uint8_t* out, int64_t out_h, int64_t out_w,
                  const Coeffs& ch, const Coeffs& cv, bool horizontal, bool vertical) {
  std::vector<uint8_t> tmp;
  const uint8_t* src = in;
  int64_t src_w = w, row0 = 0;
  if (horizontal) {
    const int64_t y0 = vertical ? cv.first.front() : 0;
    const int64_t y1 = vertical ? cv.first.back() + cv.count.back() : h;
    tmp.resize(size_t((y1 - y0) * out_w));
    for (int64_t y = y0; y < y1; ++y) {
      const uint8_t* row = in + y * w;
      for (int64_t xx = 0; xx < out_w; ++xx) {
        const int32_t* k = &ch.k[size_t(xx * ch.ksize)];
        const uint8_t* p = row + ch.first[size_t(xx)];
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < ch.count[size_t(xx)]; ++x) ss += int32_t(p[x]) * k[x];
        tmp[size_t((y - y0) * out_w + xx)] = clip8(ss);
      }
    }
    src = tmp.data();
    src_w = out_w;
    row0 = y0;
  }
  if (!vertical) {
    std::copy(src, src + out_h * out_w, out);
    return;
  }
  for (int64_t yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &cv.k[size_t(yy * cv.ksize)];
    const int64_t ymin = cv.first[size_t(yy)] - row0;
    for (int64_t xx = 0; xx < out_w; ++xx) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < cv.count[size_t(yy)]; ++y) ss += int32_t(src[(ymin + y) * src_w + xx]) * k[y];
      out[yy * out_w + xx] = clip8(ss);
    }
  }
}

}  // namespace

torch::Tensor pil_resize(const torch::Tensor& images, int64_t out_h, int64_t out_w, PilFilter filter) {
  GPS_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8 && images.device().is_cpu(),
            "pil_resize: expected uint8 [B, C, H, W] CPU images, got ", images.sizes(), " ", images.scalar_type());
  GPS_CHECK(out_h > 0 && out_w > 0, "pil_resize: output size must be positive, got ", out_h, "x", out_w);
  const auto x = images.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  auto out = torch::empty({B, C, out_h, out_w}, torch::kUInt8);
  if (B * C == 0) return out;
  const bool horizontal = out_w != W, vertical = out_h != H;
  if (!horizontal && !vertical) return x.clone();
  const Coeffs ch = precompute(W, out_w, filter), cv = precompute(H, out_h, filter);
  const uint8_t* in = x.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  at::parallel_for(0, B * C, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p)
      resize_plane(in + p * H * W, H, W, o + p * out_h * out_w, out_h, out_w, ch, cv, horizontal, vertical);
  });
  return out;
}

torch::Tensor pil_resize_center_crop(const torch::Tensor& images, int64_t size, PilFilter filter) {
  GPS_CHECK(images.dim() == 4, "pil_resize_center_crop: expected [B, C, H, W] images, got ", images.sizes());
  GPS_CHECK(size > 0, "pil_resize_center_crop: size must be positive, got ", size);
  const int64_t H = images.size(2), W = images.size(3);
  // torchvision's _compute_resized_output_size for an int size.
  const int64_t short_side = std::min(H, W), long_side = std::max(H, W);
  const int64_t new_long = int64_t(double(size) * double(long_side) / double(short_side));
  const int64_t rh = H <= W ? size : new_long, rw = H <= W ? new_long : size;
  auto r = (rh == H && rw == W) ? images : pil_resize(images, rh, rw, filter);
  // torchvision's center_crop: int(round((dim - crop) / 2.0)), Python's round (half to even).
  const int prev = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const int64_t top = int64_t(std::nearbyint(double(rh - size) / 2.0));
  const int64_t left = int64_t(std::nearbyint(double(rw - size) / 2.0));
  std::fesetround(prev);
  return r.narrow(2, top, size).narrow(3, left, size).contiguous();
}

}  // namespace gps
