// The image store: one split of a dataset in one file on disk, read a row at
// a time, so a dataset larger than memory trains with memory bounded by the
// batches in flight. `gps data pack` writes it (store_pack.h); config
// `data.name=store data.root=DIR` reads DIR/<split>.store.
//
// File layout (integers little-endian, every section page-aligned):
//   page 0     "GPSSTOR1", u32 n, then n bytes of JSON (StoreHeader), then
//              u32 CRC-32 of those n bytes
//   chunks     chunk c holds rows [c R, (c + 1) R) (R = chunk_rows; the last
//              chunk may hold fewer), starting on a 4096-byte boundary:
//                raw:  the rows' uint8 [C, H, W] pixels back to back
//                jpeg: the rows' JPEG files back to back (at [H, W], or with
//                      --max-side at their shorter side <= max_side, resized
//                      to [H, W] by `resize` when read)
//   tables     labels int64 [N] (when labelled), then per chunk
//              {u64 offset, u64 bytes, u32 crc, u32 0}, then for jpeg per
//              row {u64 offset, u32 bytes, u32 0}; their CRC-32 is in the
//              header and checked at open
// Integrity: each chunk's CRC-32 is checked the first time a row of it is
// read (per process), so opening reads only page 0 and the tables; a damaged
// chunk stops the read with gps::Error naming the file, chunk and byte
// range. verify_store checks every chunk.
//
// Reading: rows are read with pread (no mapping of the whole file, so the
// process's resident memory stays the batches; the kernel's page cache keeps
// what fits in RAM). jpeg rows are decoded with OpenCV (libjpeg) on the
// calling threads, as decode_image does a file, into [C, H, W] RGB or gray.
#pragma once

#include "gps/data/dataset.h"
#include "gps/data/image_source.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gps {

constexpr int64_t kStorePage = 4096;

struct StoreHeader {
  int64_t format = 1;
  std::string payload;     // raw | jpeg
  std::string name;        // dataset name, e.g. "fashion-mnist/train"
  std::string split;       // the split packed (train, test, val, D_SU, ...)
  int64_t rows = 0, channels = 0, height = 0, width = 0;
  int64_t chunk_rows = 0, chunks = 0;
  int64_t num_classes = 0;  // 0: unlabelled
  bool labelled = false;
  std::vector<float> mean, std;  // the reader's normalisation statistics
  int64_t jpeg_quality = 0;
  // jpeg packed with --max-side: rows are stored larger than [H, W] and
  // resized on reading by this data.resize policy (stretch | center-crop |
  // pad); "" = stored at [H, W].
  std::string resize;
  int64_t max_side = 0;
  int64_t tables_offset = 0, tables_bytes = 0;
  uint32_t tables_crc = 0;
  uint32_t content_crc = 0;  // ImageSource::content_crc of the rows
  std::string packed_from;   // what was packed: "data.name=... data.root=..."
};

struct StoreChunk {
  int64_t offset = 0, bytes = 0;
  uint32_t crc = 0;
};

// `<root>/<split>.store`.
std::string store_path(const std::string& root, const std::string& split);

class ImageStore;
using ImageStorePtr = std::shared_ptr<const ImageStore>;

// Opens a store: reads page 0 and the tables and checks their CRCs, magic,
// sizes against the file's length. Throws gps::Error naming `path` and what
// is wrong (missing: says whether an unfinished pack, <path>.partial, is
// there).
ImageStorePtr open_store(const std::string& path);

class ImageStore final : public ImageSource {
 public:
  const StoreHeader& header() const { return h_; }
  const std::string& path() const { return path_; }
  // [N] int64, or undefined when unlabelled.
  torch::Tensor labels() const { return labels_; }
  const std::vector<StoreChunk>& chunks() const { return chunks_; }

  int64_t size() const override { return h_.rows; }
  std::array<int64_t, 3> shape() const override { return {h_.channels, h_.height, h_.width}; }
  torch::Tensor fetch(const torch::Tensor& index) const override;
  torch::Tensor range(int64_t start, int64_t n) const override;
  int64_t chunk_rows() const override { return h_.chunk_rows; }
  uint32_t content_crc() const override { return h_.content_crc; }
  std::string describe() const override;

  // Checks chunk c's CRC now (reads the chunk); throws naming it when damaged.
  void verify_chunk(int64_t c) const;
  // Bytes read from the file so far by this process (rows and checks).
  int64_t bytes_read() const { return bytes_read_.load(); }

  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;
  ~ImageStore() override;

 private:
  friend ImageStorePtr open_store(const std::string& path);
  ImageStore() = default;
  void read_at(void* out, int64_t bytes, int64_t offset) const;
  void ensure_verified(int64_t c) const;
  void read_row(int64_t row, uint8_t* out) const;

  std::string path_;
  int fd_ = -1;
  StoreHeader h_;
  torch::Tensor labels_;
  std::vector<StoreChunk> chunks_;
  std::vector<int64_t> row_offset_;  // jpeg: file offset of each row's bytes
  std::vector<uint32_t> row_bytes_;  // jpeg: their length
  std::unique_ptr<std::atomic<uint8_t>[]> verified_;
  mutable std::atomic<int64_t> bytes_read_{0};
};

// A split of a store as a Dataset: the store's pixels, labels, statistics;
// `split` is left for the caller (the role).
Dataset store_dataset(const std::string& path);

struct StoreVerifyReport {
  int64_t chunks = 0, bytes = 0;
  std::vector<std::string> damaged;  // "chunk c (bytes a..b): ..." of each bad chunk
};

// Opens `path` and checks every chunk's CRC (and, for jpeg, that every row
// decodes to the header's shape when `decode` is set).
StoreVerifyReport verify_store(const std::string& path, bool decode);

}  // namespace gps
