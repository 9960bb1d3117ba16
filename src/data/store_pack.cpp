#include "gps/data/store_pack.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/data/image_files.h"
#include "gps/data/image_store.h"
#include "gps/io/fs.h"
#include "store_format.h"

#include <ATen/Parallel.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gps {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void write_all(int fd, const void* data, int64_t bytes, int64_t offset, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t put = ::pwrite(fd, p, size_t(bytes), off_t(offset));
    if (put < 0 && errno == EINTR) continue;
    GPS_CHECK(put > 0, "cannot write ", path, " (", std::strerror(errno), errno == ENOSPC ? "; disk full?" : "", ")");
    p += put;
    bytes -= put;
    offset += put;
  }
}

uint32_t crc_of(const unsigned char* p, int64_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (int64_t s = 0; s < n; s += 1 << 30) crc = crc32(crc, p + s, uInt(std::min<int64_t>(n - s, 1 << 30)));
  return uint32_t(crc);
}

// A chunk written and logged: where it is, and (jpeg) its rows' lengths.
struct Written {
  StoreChunk chunk;
  std::vector<uint32_t> lens;
};

// What identifies a pack: a log written under another key is not resumed.
std::string pack_key(const Dataset& d, const PackOptions& o, int64_t chunk_rows) {
  return str_cat("gps-pack-1;", o.payload, ";R=", chunk_rows, ";q=", o.quality, ";M=", o.max_side, ";shuffle=",
                 o.shuffle_seed, ";", d.name, ";",
                 d.split, ";n=",
                 d.size(), ";", d.channels(), "x", d.height(), "x", d.width(), ";data=", fingerprint(d));
}

// The chunks an earlier pack logged under `key` (none when the log is absent,
// of another key, or empty); a torn last line is ignored.
std::vector<Written> read_log(const std::string& log, const std::string& key) {
  std::vector<Written> out;
  std::ifstream f(log);
  std::string line;
  if (!f || !std::getline(f, line)) return out;
  try {
    if (json::parse(line).at("key") != key) return out;
  } catch (const json::exception&) {
    return out;
  }
  while (std::getline(f, line)) {
    try {
      const json j = json::parse(line);
      Written w;
      w.chunk.offset = j.at("offset");
      w.chunk.bytes = j.at("bytes");
      w.chunk.crc = j.at("crc");
      w.lens = j.at("lens").get<std::vector<uint32_t>>();
      if (j.at("chunk") != int64_t(out.size())) break;
      out.push_back(std::move(w));
    } catch (const json::exception&) {
      break;
    }
  }
  return out;
}

// Rows [start, start + n) of the store (rows `order` of `d`, or d's own
// order when `order` is undefined) as the chunk's payload bytes.
std::vector<unsigned char> chunk_payload(const Dataset& d, const torch::Tensor& order, int64_t start, int64_t n,
                                         const PackOptions& o, std::vector<uint32_t>& lens) {
  auto source_row = [&](int64_t r) { return order.defined() ? order.data_ptr<int64_t>()[r] : r; };
  std::vector<std::vector<unsigned char>> enc(static_cast<size_t>(n));
  std::vector<std::string> files;
  ImageDecodeOptions fo;
  if (o.max_side > 0) {  // the files themselves, shrunk to max_side
    GPS_CHECK(file_list_of(*d.pixels, &files, &fo), "--max-side applies to image files (data.name folder, aircraft, ",
              "rhid) packed whole; ", d.name, " is not (drop --max-side, or data.subset)");
    at::parallel_for(0, n, 4, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        enc[size_t(i)] = store_format::encode_jpeg_file(files[size_t(source_row(start + i))], fo, o.max_side,
                                                        int(o.quality));
    });
  } else {
    const auto rows = (order.defined() ? d.fetch(order.narrow(0, start, n)) : d.rows(start, n)).contiguous();
    const int64_t C = d.channels(), H = d.height(), W = d.width(), rb = C * H * W;
    const uint8_t* p = rows.data_ptr<uint8_t>();
    if (o.payload == "raw") return std::vector<unsigned char>(p, p + n * rb);
    at::parallel_for(0, n, 4, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        enc[size_t(i)] = store_format::encode_jpeg_row(p + i * rb, C, H, W, int(o.quality));
    });
  }
  std::vector<unsigned char> out;
  for (auto& e : enc) {
    lens.push_back(uint32_t(e.size()));
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

void append_line(const std::string& log, const std::string& line) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  GPS_CHECK(fd >= 0, "cannot write ", log, " (", std::strerror(errno), ")");
  const std::string text = line + "\n";
  const ssize_t put = ::write(fd, text.data(), text.size());
  const bool ok = put == ssize_t(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  GPS_CHECK(ok, "cannot write ", log, errno == ENOSPC ? " (disk full?)" : "");
}

// A permutation of [0, n) drawn from `seed`: the order of a shuffled pack.
torch::Tensor shuffled_order(int64_t n, int64_t seed) {
  auto order = torch::arange(n, torch::kInt64);
  int64_t* p = order.data_ptr<int64_t>();
  Rng rng(uint64_t(seed), 0x5ac4);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(uint64_t(i) + 1)]);
  return order;
}

// Page 0's fields that the rows do not decide (the tables' place, sizes and
// CRCs are set when they are written).
StoreHeader header_for(const Dataset& d, const PackOptions& o, int64_t chunk_rows, int64_t chunks) {
  StoreHeader h;
  h.payload = o.payload;
  h.name = d.name;
  h.split = d.split;
  h.rows = d.size();
  h.channels = d.channels();
  h.height = d.height();
  h.width = d.width();
  h.chunk_rows = chunk_rows;
  h.chunks = chunks;
  h.labelled = d.has_labels();
  h.num_classes = d.has_labels() ? d.num_classes : 0;
  h.mean = d.mean;
  h.std = d.std;
  h.jpeg_quality = o.payload == "jpeg" ? o.quality : 0;
  h.packed_from = o.packed_from;
  if (o.max_side > 0) {
    std::vector<std::string> files;
    ImageDecodeOptions fo;
    file_list_of(*d.pixels, &files, &fo);
    h.resize = fo.resize;
    h.max_side = o.max_side;
  }
  return h;
}

// The tables section (image_store.h): labels in store order, the chunks,
// and for jpeg every row's place. *content_crc: the rows' bytes' CRC-32,
// combined from the chunks' (ImageSource::content_crc).
std::string tables_for(const Dataset& d, const torch::Tensor& order, const std::vector<Written>& chunks, bool jpeg,
                       uint32_t* content_crc) {
  std::string tables;
  auto put = [&](const auto& v) { tables.append(reinterpret_cast<const char*>(&v), sizeof v); };
  if (d.has_labels()) {
    const auto lab = (order.defined() ? d.labels.index_select(0, order) : d.labels).contiguous();
    tables.append(static_cast<const char*>(lab.data_ptr()), size_t(8 * d.size()));
  }
  uLong content = crc32(0L, Z_NULL, 0);
  for (const auto& w : chunks) {
    put(uint64_t(w.chunk.offset));
    put(uint64_t(w.chunk.bytes));
    put(w.chunk.crc);
    put(uint32_t(0));
    content = crc32_combine(content, w.chunk.crc, z_off_t(w.chunk.bytes));
  }
  if (jpeg)
    for (const auto& w : chunks) {
      uint64_t at = uint64_t(w.chunk.offset);
      for (uint32_t len : w.lens) {
        put(at);
        put(len);
        put(uint32_t(0));
        at += len;
      }
    }
  *content_crc = uint32_t(content);
  return tables;
}

}  // namespace

void validate(const PackOptions& o) {
  GPS_CHECK(o.payload == "raw" || o.payload == "jpeg", "--payload: '", o.payload, "' is not one of: raw|jpeg");
  GPS_CHECK(o.chunk_rows >= 0, "--chunk-rows must be >= 0 (0 = about 4 MiB of pixels), got ", o.chunk_rows);
  GPS_CHECK(o.quality >= 1 && o.quality <= 100, "--quality must lie in [1, 100], got ", o.quality);
  GPS_CHECK(o.max_side >= 0, "--max-side must be >= 0, got ", o.max_side);
  GPS_CHECK(o.shuffle_seed >= -1, "--shuffle must be a seed >= 0, or -1 for the reader's order; got ", o.shuffle_seed);
  GPS_CHECK(o.max_side == 0 || o.payload == "jpeg", "--max-side applies to --payload jpeg, not ", o.payload);
}

PackResult pack_store(const Dataset& d, const std::string& path, const PackOptions& o) {
  validate(o);
  d.validate();
  GPS_CHECK(o.max_side == 0 || o.max_side >= d.height(), "--max-side ", o.max_side,
            " is smaller than the images' size ", d.height(), " (data.image_size): reading would enlarge them");
  const int64_t N = d.size(), rb = d.channels() * d.height() * d.width();
  const int64_t R = o.chunk_rows > 0 ? o.chunk_rows : std::max<int64_t>(1, kPackChunkBytes / rb);
  const int64_t chunks = (N + R - 1) / R;
  const std::string partial = path + ".partial", log = partial + ".progress";
  if (!fs::path(path).parent_path().empty()) fs::create_directories(fs::path(path).parent_path());

  const std::string key = pack_key(d, o, R);
  const torch::Tensor order = o.shuffle_seed >= 0 ? shuffled_order(N, o.shuffle_seed) : torch::Tensor();
  std::vector<Written> done = fs::exists(partial) ? read_log(log, key) : std::vector<Written>{};
  PackResult res;
  res.resumed_chunks = int64_t(done.size());
  if (done.empty()) {
    fs::remove(partial);
    fs::remove(log);
    append_line(log, json{{"key", key}}.dump());
  }
  const int fd = ::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  GPS_CHECK(fd >= 0, "cannot write ", partial, " (", std::strerror(errno), ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  const char* kill_env = std::getenv("GPS_PACK_KILL_AFTER_CHUNKS");
  const int64_t kill_after = kill_env != nullptr ? std::atoll(kill_env) : -1;
  int64_t end = done.empty() ? kStorePage : done.back().chunk.offset + done.back().chunk.bytes;
  GPS_CHECK(::ftruncate(fd, off_t(end)) == 0, "cannot truncate ", partial, " (", std::strerror(errno), ")");
  for (int64_t c = int64_t(done.size()); c < chunks; ++c) {
    Written w;
    const int64_t start = c * R, n = std::min(R, N - start);
    const auto bytes = chunk_payload(d, order, start, n, o, w.lens);
    w.chunk.offset = store_format::page_align(end);
    w.chunk.bytes = int64_t(bytes.size());
    w.chunk.crc = crc_of(bytes.data(), w.chunk.bytes);
    write_all(fd, bytes.data(), w.chunk.bytes, w.chunk.offset, partial);
    GPS_CHECK(::fdatasync(fd) == 0, "cannot flush ", partial, " (", std::strerror(errno), ")");
    append_line(log, json{{"chunk", c}, {"offset", w.chunk.offset}, {"bytes", w.chunk.bytes}, {"crc", w.chunk.crc},
                          {"lens", w.lens}}
                         .dump());
    end = w.chunk.offset + w.chunk.bytes;
    done.push_back(std::move(w));
    if (o.on_chunk) o.on_chunk(std::min(N, (c + 1) * R), N);
    if (kill_after >= 0 && c + 1 >= kill_after) std::raise(SIGKILL);
  }

  // Tables, then page 0, then the rename: the store exists only when whole.
  StoreHeader h = header_for(d, o, R, chunks);
  const std::string tables = tables_for(d, order, done, o.payload == "jpeg", &h.content_crc);
  h.tables_offset = store_format::page_align(end);
  h.tables_bytes = int64_t(tables.size());
  h.tables_crc = crc_of(reinterpret_cast<const unsigned char*>(tables.data()), h.tables_bytes);
  write_all(fd, tables.data(), h.tables_bytes, h.tables_offset, partial);
  const std::string page = store_format::encode_header(h);
  write_all(fd, page.data(), kStorePage, 0, partial);
  GPS_CHECK(::ftruncate(fd, off_t(h.tables_offset + h.tables_bytes)) == 0 && ::fsync(fd) == 0, "cannot flush ",
            partial, " (", std::strerror(errno), ")");
  std::error_code ec;
  fs::rename(partial, path, ec);
  GPS_CHECK(!ec, "cannot rename ", partial, " to ", path, " (", ec.message(), ")");
  fsync_path(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string());
  fs::remove(log);
  res.rows = N;
  res.chunks = chunks;
  res.bytes = h.tables_offset + h.tables_bytes;
  return res;
}

}  // namespace gps
