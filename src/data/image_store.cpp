#include "gps/data/image_store.h"

#include "gps/core/check.h"
#include "store_format.h"

#include <ATen/Parallel.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gps {

namespace fs = std::filesystem;

namespace {

std::string hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

template <typename T>
T take(const std::string& s, size_t& at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof(T));
  at += sizeof(T);
  return v;
}

}  // namespace

std::string store_path(const std::string& root, const std::string& split) {
  return (fs::path(root) / (split + ".store")).string();
}

ImageStore::~ImageStore() {
  if (fd_ >= 0) ::close(fd_);
}

void ImageStore::read_at(void* out, int64_t bytes, int64_t offset) const {
  auto* p = static_cast<char*>(out);
  while (bytes > 0) {
    const ssize_t got = ::pread(fd_, p, size_t(bytes), off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    GPS_CHECK(got > 0, path_, ": cannot read ", bytes, " bytes at offset ", offset, " (",
              got < 0 ? std::strerror(errno) : "the file is shorter than its header says", ")");
    p += got;
    bytes -= got;
    offset += got;
    bytes_read_ += got;
  }
}

void ImageStore::verify_chunk(int64_t c) const {
  const StoreChunk& k = chunks_[size_t(c)];
  std::vector<unsigned char> buf(size_t(k.bytes));
  read_at(buf.data(), k.bytes, k.offset);
  uLong crc = crc32(0L, Z_NULL, 0);
  for (int64_t s = 0; s < k.bytes; s += 1 << 30)
    crc = crc32(crc, buf.data() + s, uInt(std::min<int64_t>(k.bytes - s, 1 << 30)));
  GPS_CHECK(uint32_t(crc) == k.crc, "image store ", path_, ": chunk ", c, " (bytes ", k.offset, "..",
            k.offset + k.bytes, ") fails its CRC-32 check (stored ", hex32(k.crc), ", read ", hex32(uint32_t(crc)),
            "): the file is damaged; nothing of this chunk is used",
            "\n---> HINT: `gps data verify ", path_, "` lists every damaged chunk; pack the store again");
  verified_[size_t(c)].store(1, std::memory_order_release);
}

void ImageStore::ensure_verified(int64_t c) const {
  if (verified_[size_t(c)].load(std::memory_order_acquire) == 0) verify_chunk(c);
}

void ImageStore::read_row(int64_t row, uint8_t* out) const {
  const int64_t c = row / h_.chunk_rows;
  ensure_verified(c);
  const int64_t rb = store_format::row_bytes(h_);
  if (h_.payload == "raw") {
    read_at(out, rb, chunks_[size_t(c)].offset + (row - c * h_.chunk_rows) * rb);
    return;
  }
  std::vector<unsigned char> buf(row_bytes_[size_t(row)]);
  read_at(buf.data(), int64_t(buf.size()), row_offset_[size_t(row)]);
  std::string why;
  GPS_CHECK(store_format::decode_jpeg_row(buf.data(), buf.size(), h_.channels, h_.height, h_.width, out, &why,
                                          h_.resize),
            "image store ", path_, ": row ", row, " (bytes ", row_offset_[size_t(row)], "..",
            row_offset_[size_t(row)] + int64_t(buf.size()), " in chunk ", c, ") ", why);
}

torch::Tensor ImageStore::fetch(const torch::Tensor& index) const {
  GPS_CHECK(index.dim() == 1 && index.scalar_type() == torch::kInt64, path_, ": row index must be [B] int64, got ",
            index.sizes(), " ", index.scalar_type());
  const auto idx = index.contiguous();
  const int64_t B = idx.size(0), rb = store_format::row_bytes(h_);
  const int64_t* rows = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < B; ++i)
    GPS_CHECK(rows[i] >= 0 && rows[i] < h_.rows, path_, ": row ", rows[i], " out of range [0, ", h_.rows, ")");
  auto out = torch::empty({B, h_.channels, h_.height, h_.width}, torch::kUInt8);
  uint8_t* dst = out.data_ptr<uint8_t>();
  // Rows are independent: read (and decode) them on the intra-op threads.
  at::parallel_for(0, B, h_.payload == "jpeg" ? 4 : 64, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) read_row(rows[i], dst + i * rb);
  });
  return out;
}

torch::Tensor ImageStore::range(int64_t start, int64_t n) const {
  GPS_CHECK(start >= 0 && n >= 0 && start + n <= h_.rows, path_, ": rows [", start, ", ", start + n,
            ") out of range [0, ", h_.rows, ")");
  if (h_.payload != "raw") return ImageSource::range(start, n);
  // Raw rows in storage order: one read per chunk touched.
  const int64_t rb = store_format::row_bytes(h_);
  auto out = torch::empty({n, h_.channels, h_.height, h_.width}, torch::kUInt8);
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (int64_t r = start; r < start + n;) {
    const int64_t c = r / h_.chunk_rows, end = std::min(start + n, (c + 1) * h_.chunk_rows);
    ensure_verified(c);
    read_at(dst + (r - start) * rb, (end - r) * rb, chunks_[size_t(c)].offset + (r - c * h_.chunk_rows) * rb);
    r = end;
  }
  return out;
}

std::string ImageStore::describe() const {
  return str_cat(h_.payload, " store ", path_, " (", h_.chunks, " chunks of ", h_.chunk_rows, " rows)");
}

ImageStorePtr open_store(const std::string& path) {
  if (!fs::exists(path)) {
    const bool partial = fs::exists(path + ".partial");
    GPS_FAIL("image store ", path, " does not exist",
             partial ? str_cat("; ", path, ".partial is an unfinished pack (killed or still running), "
                                           "which is never read: run the same `gps data pack` again to finish it")
                     : std::string(),
             "\n---> HINT: `gps data pack -c CONFIG --out DIR` writes DIR/<split>.store");
  }
  std::shared_ptr<ImageStore> s(new ImageStore());
  s->path_ = path;
  s->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  GPS_CHECK(s->fd_ >= 0, "image store ", path, ": cannot open (", std::strerror(errno), ")");
  struct stat st {};
  ::fstat(s->fd_, &st);
  const int64_t length = st.st_size;
  GPS_CHECK(length >= kStorePage, "image store ", path, ": ", length, " bytes, shorter than its header page");
  std::string page(size_t(kStorePage), '\0');
  s->read_at(page.data(), kStorePage, 0);
  StoreHeader& h = s->h_;
  h = store_format::decode_header(page, path);
  GPS_CHECK(h.tables_offset >= kStorePage && h.tables_offset + h.tables_bytes == length, "image store ", path,
            ": the file has ", length, " bytes, its header says ", h.tables_offset + h.tables_bytes,
            " (truncated or appended to)");
  const bool jpeg = h.payload == "jpeg";
  const int64_t want = (h.labelled ? 8 * h.rows : 0) + 24 * h.chunks + (jpeg ? 16 * h.rows : 0);
  GPS_CHECK(h.tables_bytes == want, "image store ", path, ": tables of ", h.tables_bytes, " bytes, expected ", want);
  std::string tables(size_t(h.tables_bytes), '\0');
  s->read_at(tables.data(), h.tables_bytes, h.tables_offset);
  const uint32_t crc =
      uint32_t(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(tables.data()), uInt(tables.size())));
  GPS_CHECK(crc == h.tables_crc, "image store ", path, ": its tables (bytes ", h.tables_offset, "..", length,
            ") fail their CRC-32 check (the file is damaged); pack it again");
  size_t at = 0;
  if (h.labelled) {
    s->labels_ = torch::empty({h.rows}, torch::kInt64);
    std::memcpy(s->labels_.data_ptr<int64_t>(), tables.data(), size_t(8 * h.rows));
    at += size_t(8 * h.rows);
  }
  const int64_t rb = store_format::row_bytes(h);
  for (int64_t c = 0; c < h.chunks; ++c) {
    StoreChunk k;
    k.offset = int64_t(take<uint64_t>(tables, at));
    k.bytes = int64_t(take<uint64_t>(tables, at));
    k.crc = take<uint32_t>(tables, at);
    take<uint32_t>(tables, at);
    const int64_t rows_in = std::min(h.chunk_rows, h.rows - c * h.chunk_rows);
    GPS_CHECK(k.offset % kStorePage == 0 && k.offset >= kStorePage && k.offset + k.bytes <= h.tables_offset &&
                  (jpeg || k.bytes == rows_in * rb),
              "image store ", path, ": chunk ", c, " table entry (offset ", k.offset, ", ", k.bytes,
              " bytes) is inconsistent");
    s->chunks_.push_back(k);
  }
  if (jpeg) {
    s->row_offset_.resize(size_t(h.rows));
    s->row_bytes_.resize(size_t(h.rows));
    for (int64_t r = 0; r < h.rows; ++r) {
      s->row_offset_[size_t(r)] = int64_t(take<uint64_t>(tables, at));
      s->row_bytes_[size_t(r)] = take<uint32_t>(tables, at);
      take<uint32_t>(tables, at);
      const StoreChunk& k = s->chunks_[size_t(r / h.chunk_rows)];
      GPS_CHECK(s->row_offset_[size_t(r)] >= k.offset &&
                    s->row_offset_[size_t(r)] + s->row_bytes_[size_t(r)] <= k.offset + k.bytes,
                "image store ", path, ": row ", r, " lies outside its chunk");
    }
  }
  if (h.labelled) {
    const int64_t lo = s->labels_.min().item<int64_t>(), hi = s->labels_.max().item<int64_t>();
    GPS_CHECK(lo >= 0 && hi < h.num_classes, "image store ", path, ": label ", lo < 0 ? lo : hi,
              " out of range [0, ", h.num_classes, ")");
  }
  s->verified_.reset(new std::atomic<uint8_t>[size_t(h.chunks)]);
  for (int64_t c = 0; c < h.chunks; ++c) s->verified_[size_t(c)].store(0);
  return s;
}

Dataset store_dataset(const std::string& path) {
  const ImageStorePtr s = open_store(path);
  const StoreHeader& h = s->header();
  Dataset d;
  d.name = h.name;
  d.pixels = s;
  d.labels = s->labels();
  d.num_classes = h.labelled ? h.num_classes : 0;
  d.mean = h.mean;
  d.std = h.std;
  d.split = h.split;
  d.source_size = h.rows;
  d.validate();
  return d;
}

StoreVerifyReport verify_store(const std::string& path, bool decode) {
  const ImageStorePtr s = open_store(path);
  StoreVerifyReport r;
  r.chunks = s->header().chunks;
  const int64_t R = s->header().chunk_rows;
  for (int64_t c = 0; c < r.chunks; ++c) {
    r.bytes += s->chunks()[size_t(c)].bytes;
    try {
      s->verify_chunk(c);
      if (decode && s->header().payload == "jpeg")
        s->range(c * R, std::min(R, s->size() - c * R));
    } catch (const Error& e) {
      r.damaged.push_back(e.what());
    }
  }
  return r;
}

}  // namespace gps
