#include "gps/data/dataset.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

#include <ATen/Parallel.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace gps {

torch::Tensor Dataset::all_images() const {
  GPS_CHECK(pixels != nullptr, name, ": no images");
  const auto m = pixels->memory();
  return m.defined() ? m : pixels->range(0, size());
}

void Dataset::validate() const {
  GPS_CHECK(pixels != nullptr, name, ": no images");
  GPS_CHECK(channels() == 1 || channels() == 3, name, ": images must have 1 or 3 channels, got ", channels());
  GPS_CHECK(size() > 0, name, ": dataset is empty");
  if (labels.defined()) {
    GPS_CHECK(labels.dim() == 1 && labels.size(0) == size(), name, ": labels must be [", size(), "], got ",
              labels.sizes());
    GPS_CHECK(labels.scalar_type() == torch::kInt64, name, ": labels must be int64");
    const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    GPS_CHECK(lo >= 0 && hi < num_classes, name, ": label ", lo < 0 ? lo : hi, " out of range [0, ",
              num_classes, ")");
  }
  GPS_CHECK(mean.size() == size_t(channels()) && std.size() == size_t(channels()), name,
            ": mean/std must have one value per channel");
}

Dataset select(const Dataset& d, const torch::Tensor& index) {
  Dataset out = d;
  const auto m = d.pixels->memory();
  out.pixels = m.defined() ? memory_source(m.index_select(0, index)) : subset_source(d.pixels, index);
  const auto base = d.source_index.defined() ? d.source_index : torch::arange(d.size(), torch::kInt64);
  out.source_index = base.index_select(0, index).contiguous();
  out.source_size = d.source_size > 0 ? d.source_size : d.size();
  if (d.labels.defined()) out.labels = d.labels.index_select(0, index).contiguous();
  return out;
}

Dataset stratified_subset(const Dataset& d, int64_t n, uint64_t seed) {
  const int64_t N = d.size();
  if (n <= 0 || n >= N) return d;
  // Shuffle all indices with a seeded Fisher-Yates, then keep per class its share.
  std::vector<int64_t> perm(N);
  for (int64_t i = 0; i < N; ++i) perm[i] = i;
  Rng rng(seed, 0x5ab5e7);
  for (int64_t i = N - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
  std::vector<int64_t> keep;
  if (!d.has_labels()) {
    keep.assign(perm.begin(), perm.begin() + n);
  } else {
    auto lab = d.labels.accessor<int64_t, 1>();
    std::map<int64_t, std::vector<int64_t>> by_class;
    for (int64_t i : perm) by_class[lab[i]].push_back(i);
    // Largest-remainder allocation so the quotas sum exactly to n.
    std::vector<std::pair<double, int64_t>> rem;
    std::map<int64_t, int64_t> quota;
    int64_t given = 0;
    for (auto& [c, v] : by_class) {
      const double exact = double(n) * v.size() / N;
      quota[c] = std::max<int64_t>(1, int64_t(exact));
      given += quota[c];
      rem.push_back({exact - int64_t(exact), c});
    }
    std::sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    for (size_t i = 0; given < n && i < rem.size(); ++i, ++given) quota[rem[i].second]++;
    for (auto& [c, v] : by_class) {
      const int64_t q = std::min<int64_t>(quota[c], v.size());
      keep.insert(keep.end(), v.begin(), v.begin() + q);
    }
  }
  std::sort(keep.begin(), keep.end());
  Dataset out = select(d, torch::tensor(keep, torch::kInt64));
  out.name = str_cat(d.name, "[subset ", out.size(), "]");
  return out;
}

void ChannelStats::add(const torch::Tensor& images) {
  GPS_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8,
            "compute_channel_stats: images must be [N, C, H, W] uint8, got ", images.sizes(), " ",
            images.scalar_type());
  // A 256-bin histogram per channel: exact, one pass, no float copy of the images.
  const auto x = images.contiguous();
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  if (channels_ == 0) {
    channels_ = C;
    hist_.assign(size_t(C) * 256, 0);
  }
  GPS_CHECK(C == channels_, "compute_channel_stats: a block of ", C, " channels after blocks of ", channels_);
  if (N == 0) return;
  // Images split over threads; 4 interleaved sub-histograms per channel keep
  // neighbouring equal pixels from serialising on one counter.
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), N));
  std::vector<std::vector<int64_t>> local(size_t(parts), std::vector<int64_t>(size_t(C) * 256 * 4, 0));
  const uint8_t* base = x.data_ptr<uint8_t>();
  at::parallel_for(0, parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      int64_t* h4 = local[size_t(t)].data();
      for (int64_t i = N * t / parts; i < N * (t + 1) / parts; ++i)
        for (int64_t c = 0; c < C; ++c) {
          const uint8_t* p = base + (i * C + c) * HW;
          int64_t* h = h4 + c * 1024;
          int64_t j = 0;
          for (; j + 4 <= HW; j += 4) {
            ++h[p[j]];
            ++h[256 + p[j + 1]];
            ++h[512 + p[j + 2]];
            ++h[768 + p[j + 3]];
          }
          for (; j < HW; ++j) ++h[p[j]];
        }
    }
  });
  for (const auto& l : local)
    for (int64_t c = 0; c < C; ++c)
      for (int k = 0; k < 4; ++k)
        for (int v = 0; v < 256; ++v) hist_[size_t(c * 256 + v)] += l[size_t(c * 1024 + k * 256 + v)];
  count_ += double(N) * double(HW);
}

void ChannelStats::stats(std::vector<float>& mean, std::vector<float>& std) const {
  const int64_t C = channels_;
  mean.assign(size_t(C), 0.f);
  std.assign(size_t(C), 0.f);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, sq = 0;
    for (int v = 0; v < 256; ++v) {
      const double f = v / 255.0, n = double(hist_[size_t(c * 256 + v)]);
      s += n * f;
      sq += n * f * f;
    }
    const double m = s / count_;
    mean[size_t(c)] = float(m);
    std[size_t(c)] = float(std::sqrt(std::max(0.0, sq / count_ - m * m)));  // population std
  }
}

void compute_channel_stats(const torch::Tensor& images, std::vector<float>& mean, std::vector<float>& std) {
  ChannelStats s;
  s.add(images);
  s.stats(mean, std);
}

uint64_t fingerprint(const Dataset& d) {
  GPS_CHECK(d.pixels != nullptr, d.name, ": no images");
  auto crc_of = [](const torch::Tensor& t, uLong crc) {
    auto c = t.contiguous();
    const auto* p = static_cast<const Bytef*>(c.data_ptr());
    size_t n = c.numel() * c.element_size();
    while (n > 0) {
      const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      crc = crc32(crc, p, chunk);
      p += chunk;
      n -= chunk;
    }
    return crc;
  };
  uint64_t h = mix64(d.pixels->content_crc());
  h = mix64(h ^ uint64_t(d.size()));
  for (auto s : d.pixels->shape()) h = mix64(h ^ uint64_t(s));
  if (d.labels.defined()) h = mix64(h ^ crc_of(d.labels, crc32(0L, Z_NULL, 0)));
  return h;
}

}  // namespace gps
