#include "gps/data/image_cache.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"

#include <ATen/Parallel.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gps {

namespace {

constexpr char kMagic[8] = {'G', 'P', 'S', 'I', 'M', 'G', 'C', '2'};

// FNV-1a, 64-bit.
struct Hasher {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
  }
  void str(const std::string& s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void u64(uint64_t v) { bytes(&v, sizeof(v)); }
};

// crc32(crc, p, n) for any n, in parallel over 4 MiB blocks joined with crc32_combine.
uLong crc_update(uLong crc, const void* p, size_t n) {
  constexpr size_t kBlock = size_t(4) << 20;
  const auto* b = static_cast<const Bytef*>(p);
  const int64_t blocks = int64_t((n + kBlock - 1) / kBlock);
  if (blocks <= 1) return n ? crc32(crc, b, uInt(n)) : crc;
  std::vector<uLong> part(static_cast<size_t>(blocks));
  at::parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const size_t len = std::min(kBlock, n - size_t(i) * kBlock);
      part[size_t(i)] = crc32(crc32(0L, Z_NULL, 0), b + size_t(i) * kBlock, uInt(len));
    }
  });
  for (int64_t i = 0; i < blocks; ++i)
    crc = crc32_combine(crc, part[size_t(i)], z_off_t(std::min(kBlock, n - size_t(i) * kBlock)));
  return crc;
}

// Reads exactly n bytes, folding them into the CRC; false at a short read.
bool read_exact(std::ifstream& f, void* p, size_t n, uLong& crc) {
  if (!f.read(static_cast<char*>(p), std::streamsize(n))) return false;
  crc = crc_update(crc, p, n);
  return true;
}

}  // namespace

uint64_t image_cache_key(const std::vector<std::string>& paths, const ImageDecodeOptions& o, const std::string& what) {
  Hasher h;
  h.str("gps image cache v1");
  h.u64(uint64_t(o.size));
  h.u64(uint64_t(o.channels));
  h.str(o.resize);
  h.u64(uint64_t(o.crop_bottom));
  h.u64(paths.size());
  for (const auto& p : paths) {
    struct stat st;
    GPS_CHECK(::stat(p.c_str(), &st) == 0, what, ": image file ", p, " does not exist");
    GPS_CHECK(S_ISREG(st.st_mode), what, ": ", p, " is not a regular file");
    h.str(p);
    h.u64(uint64_t(st.st_size));
    h.u64(uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec));
  }
  return h.h;
}

std::string image_cache_file(const std::string& dir, uint64_t key) {
  return (std::filesystem::path(dir) / ("images-" + hex64(key) + ".bin")).string();
}

bool read_image_cache(const std::string& file, uint64_t key, int64_t listed, int64_t C, int64_t S,
                      DecodedImages& out, std::string* why) {
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    *why = "no cache file";
    return false;
  }
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(file, ec);
  uLong crc = crc32(0L, Z_NULL, 0);
  char magic[8];
  uint64_t k = 0;
  int64_t hdr[5];  // listed, rows, C, S, n_bad
  if (!read_exact(f, magic, 8, crc) || std::memcmp(magic, kMagic, 8) != 0) {
    *why = "bad magic (not a gps image cache, or another version)";
    return false;
  }
  if (!read_exact(f, &k, 8, crc) || !read_exact(f, hdr, sizeof(hdr), crc)) {
    *why = "truncated header";
    return false;
  }
  const int64_t rows = hdr[1], n_bad = hdr[4];
  if (k != key || hdr[0] != listed || hdr[2] != C || hdr[3] != S || rows < 0 || n_bad < 0 || rows > listed ||
      n_bad != listed - rows) {  // not rows + n_bad: a corrupt header may overflow it
    *why = "header does not match the image list and options";
    return false;
  }
  const uint64_t pixels = uint64_t(rows) * uint64_t(C * S * S);
  if (file_size < 56 + 8 * uint64_t(C) + 8 * uint64_t(rows) + pixels + 4) {
    *why = "file too short for its header";
    return false;
  }
  out.mean.resize(size_t(C));
  out.std.resize(size_t(C));
  if (!read_exact(f, out.mean.data(), 4 * size_t(C), crc) || !read_exact(f, out.std.data(), 4 * size_t(C), crc)) {
    *why = "truncated statistics";
    return false;
  }
  out.kept.resize(size_t(rows));
  if (!read_exact(f, out.kept.data(), 8 * size_t(rows), crc)) {
    *why = "truncated row index";
    return false;
  }
  for (size_t i = 0; i < out.kept.size(); ++i)
    if (out.kept[i] < 0 || out.kept[i] >= listed || (i > 0 && out.kept[i] <= out.kept[i - 1])) {
      *why = "row index out of order";
      return false;
    }
  out.bad.clear();
  for (int64_t i = 0; i < n_bad; ++i) {
    uint32_t len = 0;
    if (!read_exact(f, &len, 4, crc) || len > 65536) {
      *why = "corrupt list of undecodable files";
      return false;
    }
    std::string s(len, '\0');
    if (!read_exact(f, s.data(), len, crc)) {
      *why = "truncated list of undecodable files";
      return false;
    }
    out.bad.push_back(std::move(s));
  }
  out.images = torch::empty({rows, C, S, S}, torch::kUInt8);
  if (!read_exact(f, out.images.data_ptr<uint8_t>(), size_t(pixels), crc)) {
    *why = "truncated pixel data";
    return false;
  }
  uint32_t stored = 0;
  if (!f.read(reinterpret_cast<char*>(&stored), 4)) {
    *why = "missing checksum";
    return false;
  }
  if (f.peek() != std::ifstream::traits_type::eof()) {
    *why = "trailing bytes after the checksum";
    return false;
  }
  if (stored != uint32_t(crc)) {
    *why = "checksum mismatch (file damaged)";
    return false;
  }
  out.cache_file = file;
  out.from_cache = true;
  return true;
}

void write_image_cache(const std::string& file, uint64_t key, int64_t listed, const DecodedImages& d) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(file).parent_path(), ec);
  GPS_CHECK(!ec, "data.cache_dir: cannot create folder ", fs::path(file).parent_path().string(), ": ", ec.message());
  const auto img = d.images.contiguous();
  GPS_CHECK(img.dim() == 4 && img.scalar_type() == torch::kUInt8 && int64_t(d.kept.size()) == img.size(0) &&
                int64_t(d.mean.size()) == img.size(1) && int64_t(d.std.size()) == img.size(1),
            "write_image_cache: images must be [rows, C, S, S] uint8 with one kept index per row and C means/stds");
  // A cache (rebuilt from the images when lost): no fsync.
  atomic_write(file, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    GPS_CHECK(f, "data.cache_dir: cannot write ", tmp);
    uLong crc = crc32(0L, Z_NULL, 0);
    auto put = [&](const void* p, size_t n) {
      f.write(static_cast<const char*>(p), std::streamsize(n));
      crc = crc_update(crc, p, n);
    };
    const int64_t hdr[5] = {listed, img.size(0), img.size(1), img.size(2), int64_t(d.bad.size())};
    put(kMagic, 8);
    put(&key, 8);
    put(hdr, sizeof(hdr));
    put(d.mean.data(), 4 * d.mean.size());
    put(d.std.data(), 4 * d.std.size());
    put(d.kept.data(), 8 * d.kept.size());
    for (const auto& s : d.bad) {
      const std::string t = s.substr(0, 65536);
      const uint32_t len = uint32_t(t.size());
      put(&len, 4);
      put(t.data(), t.size());
    }
    put(img.data_ptr<uint8_t>(), size_t(img.numel()));
    const uint32_t c = uint32_t(crc);
    f.write(reinterpret_cast<const char*>(&c), 4);
    f.close();
    GPS_CHECK(f, "data.cache_dir: writing ", tmp, " failed");
  }, /*durable=*/false);
}

}  // namespace gps
