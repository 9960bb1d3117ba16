#include "gps/data/idx.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"

#include <zlib.h>

#include <fstream>
#include <sstream>

namespace gps {

namespace {

constexpr const char* kIdxHint =
    "\n---> HINT: IDX files (MNIST/Fashion-MNIST) start with bytes 00 00 08 <rank>, then "
    "<rank> big-endian uint32 sizes, then exactly prod(sizes) bytes; *.gz files are gunzipped first.";

std::string gunzip(const std::string& in, const std::string& path) {
  z_stream zs{};
  GPS_CHECK(inflateInit2(&zs, 15 + 32) == Z_OK, "zlib init failed for ", path);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END) {
      inflateEnd(&zs);
      GPS_FAIL("corrupt gzip stream in ", path, " (zlib error ", ret,
               ret == Z_BUF_ERROR ? ": file truncated" : "", ")");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return out;
}

uint32_t be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace

std::string read_file_maybe_gz(const std::string& path) {
  std::string bytes = read_file(path);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b)
    return gunzip(bytes, path);
  return bytes;
}

torch::Tensor parse_idx(const std::string& bytes, const std::string& what) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  GPS_CHECK(bytes.size() >= 4, what, ": too short for an IDX header (", bytes.size(), " bytes)", kIdxHint);
  GPS_CHECK(p[0] == 0 && p[1] == 0, what, ": bad IDX magic (first two bytes must be 0)", kIdxHint);
  GPS_CHECK(p[2] == 0x08, what, ": IDX data type 0x", std::hex, int(p[2]), std::dec,
            " is not supported (expected 0x08, unsigned byte)", kIdxHint);
  const int rank = p[3];
  GPS_CHECK(rank >= 1 && rank <= 4, what, ": IDX rank ", rank, " out of range [1, 4]", kIdxHint);
  const size_t header = 4 + 4 * size_t(rank);
  GPS_CHECK(bytes.size() >= header, what, ": truncated IDX header (", bytes.size(), " bytes, need ",
            header, ")", kIdxHint);
  std::vector<int64_t> dims;
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = be32(p + 4 + 4 * i);
    GPS_CHECK(d > 0, what, ": IDX dimension ", i, " is 0", kIdxHint);
    // Checked before multiplying, so the product cannot wrap around (a fuzzer found that).
    GPS_CHECK(uint64_t(d) <= (uint64_t(1) << 40) / count, what, ": IDX dimensions too large (more than 2^40 bytes)",
              kIdxHint);
    count *= d;
    dims.push_back(d);
  }
  const uint64_t payload = bytes.size() - header;
  GPS_CHECK(payload >= count, what, ": truncated IDX data: header promises ", count, " bytes, file has ",
            payload, kIdxHint);
  GPS_CHECK(payload == count, what, ": ", payload - count, " trailing bytes after the IDX data (header promises ",
            count, " bytes)", kIdxHint);
  auto t = torch::empty(dims, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), p + header, count);
  return t;
}

torch::Tensor read_idx(const std::string& path) { return parse_idx(read_file_maybe_gz(path), path); }

}  // namespace gps
