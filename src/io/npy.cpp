#include "gps/io/npy.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace gps {

namespace {

constexpr const char* kHint =
    "\n---> HINT: expected a NumPy .npy file (np.save), C order, dtype float32/float64/int64/int32/uint8";

std::string descr_of(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "<f4";
    case torch::kFloat64: return "<f8";
    case torch::kInt64: return "<i8";
    case torch::kInt32: return "<i4";
    case torch::kUInt8: return "|u1";
    default: GPS_FAIL("save_npy: unsupported dtype ", t);
  }
}

torch::ScalarType dtype_of(const std::string& d, const std::string& what) {
  if (d == "<f4") return torch::kFloat32;
  if (d == "<f8") return torch::kFloat64;
  if (d == "<i8") return torch::kInt64;
  if (d == "<i4") return torch::kInt32;
  if (d == "|u1" || d == "<u1") return torch::kUInt8;
  GPS_FAIL(what, ": unsupported .npy dtype '", d, "'", kHint);
}

}  // namespace

std::string npy_header(const torch::Tensor& t) {
  std::string shape = "(";
  for (int64_t i = 0; i < t.dim(); ++i) shape += std::to_string(t.size(i)) + (t.dim() == 1 ? "," : (i + 1 < t.dim() ? ", " : ""));
  shape += ")";
  std::string header = "{'descr': '" + descr_of(t.scalar_type()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const uint16_t len = static_cast<uint16_t>(header.size());
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  return out + header;
}

void save_npy(const std::string& path, const torch::Tensor& t_in) {
  auto t = t_in.detach().to(torch::kCPU).contiguous();
  const std::string header = npy_header(t);
  // Atomic (gps/io/fs.h): a full disk leaves no torn .npy behind. Not
  // fsynced: embeddings and tables are outputs or caches, cheap to remake.
  atomic_write(
      path,
      [&](const std::string& tmp) {
        std::ofstream f(tmp, std::ios::binary);
        GPS_CHECK(f, "cannot create ", tmp);
        f.write(header.data(), std::streamsize(header.size()));
        f.write(static_cast<const char*>(t.data_ptr()), std::streamsize(t.numel() * t.element_size()));
        f.close();
        GPS_CHECK(f.good(), "writing ", tmp, " failed");
      },
      /*durable=*/false);
}

torch::Tensor parse_npy(const std::string& bytes, const std::string& what) {
  GPS_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0, what,
            ": not a .npy file (bad magic)", kHint);
  const int major = static_cast<unsigned char>(bytes[6]);
  GPS_CHECK(major >= 1 && major <= 3, what, ": unsupported .npy version ", major, kHint);
  size_t hlen, off;
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (major == 1) {
    hlen = u[8] | (size_t(u[9]) << 8);
    off = 10;
  } else {
    GPS_CHECK(bytes.size() >= 12, what, ": truncated .npy header", kHint);
    hlen = u[8] | (size_t(u[9]) << 8) | (size_t(u[10]) << 16) | (size_t(u[11]) << 24);
    off = 12;
  }
  GPS_CHECK(bytes.size() >= off + hlen, what, ": truncated .npy header", kHint);
  const std::string header = bytes.substr(off, hlen);
  std::smatch m;
  static const std::regex descr_re("'descr'\\s*:\\s*'([^']*)'");
  static const std::regex order_re("'fortran_order'\\s*:\\s*(True|False)");
  static const std::regex shape_re("'shape'\\s*:\\s*\\(([^)]*)\\)");
  GPS_CHECK(std::regex_search(header, m, descr_re), what, ": .npy header has no 'descr'", kHint);
  const auto dtype = dtype_of(m[1], what);
  GPS_CHECK(std::regex_search(header, m, order_re), what, ": .npy header has no 'fortran_order'", kHint);
  GPS_CHECK(m[1] == "False", what, ": Fortran-order arrays are not supported (save with np.ascontiguousarray)", kHint);
  GPS_CHECK(std::regex_search(header, m, shape_re), what, ": .npy header has no 'shape'", kHint);
  std::vector<int64_t> shape;
  {
    std::string s = m[1];
    std::stringstream ss(s);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      tok.erase(0, tok.find_first_not_of(" \t"));
      tok.erase(tok.find_last_not_of(" \t") + 1);
      if (tok.empty()) continue;
      GPS_CHECK(tok.find_first_not_of("0123456789") == std::string::npos && tok.size() < 16, what,
                ": bad .npy shape entry '", tok, "'", kHint);
      shape.push_back(std::stoll(tok));
    }
  }
  int64_t count = 1;
  for (auto d : shape) {
    GPS_CHECK(d >= 0 && (d == 0 || count <= (int64_t(1) << 40) / std::max<int64_t>(d, 1)), what,
              ": .npy shape too large", kHint);
    count *= d;
  }
  auto t = torch::empty(shape, dtype);
  const size_t nbytes = size_t(count) * t.element_size();
  const size_t payload = bytes.size() - off - hlen;
  GPS_CHECK(payload >= nbytes, what, ": truncated .npy data: shape needs ", nbytes, " bytes, file has ", payload, kHint);
  GPS_CHECK(payload == nbytes, what, ": ", payload - nbytes, " trailing bytes after the .npy data", kHint);
  if (nbytes) std::memcpy(t.data_ptr(), bytes.data() + off + hlen, nbytes);
  return t;
}

torch::Tensor load_npy(const std::string& path) {
  return parse_npy(read_file(path, ".npy file"), path);
}

}  // namespace gps
