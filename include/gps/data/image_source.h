// Where a dataset's pixels live. Everything that reads images (the batch
// source, priors, evaluation, gps_ssl) asks an ImageSource for rows, so the
// same code runs on images held in memory and on an image store on disk
// (image_store.h) that is larger than memory.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gps {

class ImageSource {
 public:
  virtual ~ImageSource() = default;

  virtual int64_t size() const = 0;
  // {C, H, W} of every image.
  virtual std::array<int64_t, 3> shape() const = 0;

  // Rows `index` ([B] int64 in [0, size()), any order, repeats allowed) as
  // uint8 [B, C, H, W], contiguous, CPU. Safe to call from several threads
  // at once. Throws gps::Error naming the file and offset of damaged data.
  virtual torch::Tensor fetch(const torch::Tensor& index) const = 0;

  // Rows [start, start + n) as fetch returns them; sources on disk read
  // them in storage order.
  virtual torch::Tensor range(int64_t start, int64_t n) const;

  // Every image in one [N, C, H, W] tensor when they are held in memory;
  // undefined otherwise.
  virtual torch::Tensor memory() const { return {}; }

  // Rows per storage chunk (what a quasi-random order keeps together); 0
  // when the source has no chunks.
  virtual int64_t chunk_rows() const { return 0; }

  // CRC-32 (zlib) identifying the pixels: of the image bytes in row order
  // for memory and raw stores (the same value for the same images), of the
  // encoded bytes for a JPEG store.
  virtual uint32_t content_crc() const = 0;

  // One line for logs: "memory", "raw store /path (12 chunks)", ...
  virtual std::string describe() const = 0;
};

using ImageSourcePtr = std::shared_ptr<const ImageSource>;

// images: [N, C, H, W] uint8 (made contiguous), CPU.
ImageSourcePtr memory_source(torch::Tensor images);

// The rows `index` ([M] int64, into `parent`) of a source on disk, as a
// source of M images: nothing is read until they are fetched.
ImageSourcePtr subset_source(ImageSourcePtr parent, torch::Tensor index);

// Calls fn(start, images [n, C, H, W]) for consecutive blocks of at most
// `block` rows, in order: a pass over every image whose memory is one
// block. block >= 1.
void for_each_block(const ImageSource& src, int64_t block,
                    const std::function<void(int64_t start, const torch::Tensor& images)>& fn);

}  // namespace gps
