#include "gps/data/image_source.h"

#include "gps/core/check.h"

#include <zlib.h>

#include <algorithm>

namespace gps {

namespace {

void check_index(const torch::Tensor& index, int64_t n, const std::string& what) {
  GPS_CHECK(index.dim() == 1 && index.scalar_type() == torch::kInt64 && index.device().is_cpu(), what,
            ": row index must be [B] int64 on the CPU, got ", index.sizes(), " ", index.scalar_type());
  if (index.numel() == 0) return;
  const int64_t lo = index.min().item<int64_t>(), hi = index.max().item<int64_t>();
  GPS_CHECK(lo >= 0 && hi < n, what, ": row ", lo < 0 ? lo : hi, " out of range [0, ", n, ")");
}

class MemorySource final : public ImageSource {
 public:
  explicit MemorySource(torch::Tensor images) : images_(std::move(images)) {
    GPS_CHECK(images_.dim() == 4 && images_.scalar_type() == torch::kUInt8 && images_.device().is_cpu(),
              "images must be [N, C, H, W] uint8 on the CPU, got ", images_.sizes(), " ", images_.scalar_type());
    images_ = images_.contiguous();
  }
  int64_t size() const override { return images_.size(0); }
  std::array<int64_t, 3> shape() const override { return {images_.size(1), images_.size(2), images_.size(3)}; }
  torch::Tensor fetch(const torch::Tensor& index) const override {
    check_index(index, size(), "images in memory");
    return images_.index_select(0, index);
  }
  torch::Tensor range(int64_t start, int64_t n) const override { return images_.narrow(0, start, n); }
  torch::Tensor memory() const override { return images_; }
  uint32_t content_crc() const override {
    const auto* p = static_cast<const Bytef*>(images_.data_ptr());
    size_t n = size_t(images_.numel());
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
      const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      crc = crc32(crc, p, chunk);
      p += chunk;
      n -= chunk;
    }
    return uint32_t(crc);
  }
  std::string describe() const override { return "memory"; }

 private:
  torch::Tensor images_;
};

class SubsetSource final : public ImageSource {
 public:
  SubsetSource(ImageSourcePtr parent, torch::Tensor index) : parent_(std::move(parent)), index_(std::move(index)) {
    check_index(index_, parent_->size(), "subset of " + parent_->describe());
    index_ = index_.contiguous();
  }
  int64_t size() const override { return index_.size(0); }
  std::array<int64_t, 3> shape() const override { return parent_->shape(); }
  torch::Tensor fetch(const torch::Tensor& index) const override {
    check_index(index, size(), "subset of " + parent_->describe());
    return parent_->fetch(index_.index_select(0, index));
  }
  uint32_t content_crc() const override {
    // The parent's pixels and which rows: enough to tell subsets apart
    // without reading every image.
    uLong crc = crc32(0L, Z_NULL, 0);
    const uint32_t parent = parent_->content_crc();
    crc = crc32(crc, reinterpret_cast<const Bytef*>(&parent), sizeof parent);
    return uint32_t(crc32(crc, static_cast<const Bytef*>(index_.data_ptr()), uInt(index_.numel() * 8)));
  }
  // A subset keeps its parent's row order (stratified_subset sorts), so a
  // parent chunk holds about chunk x size / parent size of its rows.
  int64_t chunk_rows() const override {
    const int64_t R = parent_->chunk_rows();
    return R == 0 ? 0 : std::max<int64_t>(1, R * size() / parent_->size());
  }
  std::string describe() const override { return str_cat(size(), " rows of ", parent_->describe()); }

 private:
  ImageSourcePtr parent_;
  torch::Tensor index_;
};

}  // namespace

torch::Tensor ImageSource::range(int64_t start, int64_t n) const {
  return fetch(torch::arange(start, start + n, torch::kInt64));
}

ImageSourcePtr memory_source(torch::Tensor images) { return std::make_shared<MemorySource>(std::move(images)); }

ImageSourcePtr subset_source(ImageSourcePtr parent, torch::Tensor index) {
  return std::make_shared<SubsetSource>(std::move(parent), std::move(index));
}

void for_each_block(const ImageSource& src, int64_t block,
                    const std::function<void(int64_t, const torch::Tensor&)>& fn) {
  GPS_CHECK(block >= 1, "for_each_block: block must be >= 1, got ", block);
  for (int64_t s = 0; s < src.size(); s += block) fn(s, src.range(s, std::min(block, src.size() - s)));
}

}  // namespace gps
