#include "gps/data/dataset.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

#include <zlib.h>

#include <algorithm>
#include <map>

namespace gps {

void Dataset::validate() const {
  GPS_CHECK(images.defined(), name, ": no images");
  GPS_CHECK(images.dim() == 4, name, ": images must be [N, C, H, W], got ", images.sizes());
  GPS_CHECK(images.scalar_type() == torch::kUInt8, name, ": images must be uint8");
  GPS_CHECK(images.size(1) == 1 || images.size(1) == 3, name, ": images must have 1 or 3 channels, got ",
            images.size(1));
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
  out.images = d.images.index_select(0, index).contiguous();
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

void compute_channel_stats(const torch::Tensor& images, std::vector<float>& mean, std::vector<float>& std) {
  // Sums in float64 over chunks of images, so memory stays small for large datasets.
  const int64_t N = images.size(0), C = images.size(1);
  const int64_t per_image = std::max<int64_t>(1, images[0].numel());
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 24) / per_image);
  auto sum = torch::zeros({C}, torch::kFloat64), sq = torch::zeros({C}, torch::kFloat64);
  for (int64_t i = 0; i < N; i += chunk) {
    auto x = images.narrow(0, i, std::min(chunk, N - i)).to(torch::kFloat64).div_(255.0);
    sum += x.sum({0, 2, 3});
    sq += x.mul_(x).sum({0, 2, 3});
  }
  const double count = double(N) * double(images.size(2)) * double(images.size(3));
  auto m = sum / count;
  auto s = (sq / count - m * m).clamp_min_(0.0).sqrt_();  // population std
  mean.assign(m.data_ptr<double>(), m.data_ptr<double>() + C);
  std.assign(s.data_ptr<double>(), s.data_ptr<double>() + C);
}

uint64_t fingerprint(const Dataset& d) {
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
  uLong crc = crc_of(d.images, crc32(0L, Z_NULL, 0));
  uint64_t h = mix64(crc);
  for (auto s : d.images.sizes()) h = mix64(h ^ uint64_t(s));
  if (d.labels.defined()) h = mix64(h ^ crc_of(d.labels, crc32(0L, Z_NULL, 0)));
  return h;
}

}  // namespace gps
