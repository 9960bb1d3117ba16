#include "store_format.h"

#include "gps/core/check.h"
#include "gps/data/image_files.h"
#include "gps/io/plugins.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>  // the IMREAD_* flags; decoding is in the plugin
#include <opencv2/imgproc.hpp>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gps {
// Page 0's JSON: every field of StoreHeader under its own name.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StoreHeader, format, payload, name, split, rows, channels, height, width, chunk_rows,
                                   chunks, num_classes, labelled, mean, std, jpeg_quality, tables_offset, tables_bytes,
                                   tables_crc, content_crc, packed_from, resize, max_side)
}  // namespace gps

namespace gps::store_format {

using nlohmann::json;

std::string encode_header(const StoreHeader& h) {
  const json j = h;
  const std::string text = j.dump();
  GPS_CHECK(int64_t(text.size()) + 16 <= kStorePage, "image store header of ", text.size(),
            " bytes does not fit its page (packed_from too long?)");
  std::string page(size_t(kStorePage), '\0');
  std::memcpy(page.data(), kMagic, 8);
  const uint32_t n = uint32_t(text.size());
  std::memcpy(page.data() + 8, &n, 4);
  std::memcpy(page.data() + 12, text.data(), n);
  const uint32_t crc = uint32_t(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(text.data()), n));
  std::memcpy(page.data() + 12 + n, &crc, 4);
  return page;
}

StoreHeader decode_header(const std::string& page, const std::string& path) {
  constexpr const char* kHint = "\n---> HINT: an image store is written by `gps data pack`; pack it again";
  GPS_CHECK(page.size() >= 16 && std::memcmp(page.data(), kMagic, 8) == 0, path,
            ": not an image store (bad magic; expected \"", kMagic, "\")", kHint);
  uint32_t n = 0, crc = 0;
  std::memcpy(&n, page.data() + 8, 4);
  GPS_CHECK(int64_t(n) + 16 <= int64_t(page.size()), path, ": header length ", n, " exceeds its page", kHint);
  std::memcpy(&crc, page.data() + 12 + n, 4);
  const uint32_t got = uint32_t(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(page.data() + 12), n));
  GPS_CHECK(got == crc, path, ": header fails its CRC-32 check (the file is damaged)", kHint);
  StoreHeader h;
  try {
    h = json::parse(page.substr(12, n)).get<StoreHeader>();
  } catch (const json::exception& e) {
    GPS_FAIL(path, ": unreadable header (", e.what(), ")", kHint);
  }
  GPS_CHECK(h.format == 1, path, ": image store format ", h.format, " (this gps reads format 1)", kHint);
  GPS_CHECK(h.payload == "raw" || h.payload == "jpeg", path, ": unknown payload '", h.payload, "'", kHint);
  GPS_CHECK(h.rows > 0 && (h.channels == 1 || h.channels == 3) && h.height > 0 && h.width > 0 && h.chunk_rows > 0 &&
                h.chunks == (h.rows + h.chunk_rows - 1) / h.chunk_rows,
            path, ": inconsistent header (rows ", h.rows, ", [", h.channels, ", ", h.height, ", ", h.width,
            "], chunk_rows ", h.chunk_rows, ", chunks ", h.chunks, ")", kHint);
  GPS_CHECK(h.mean.size() == size_t(h.channels) && h.std.size() == size_t(h.channels), path,
            ": mean/std need one value per channel", kHint);
  return h;
}

std::vector<unsigned char> encode_jpeg_row(const uint8_t* row, int64_t C, int64_t H, int64_t W, int quality) {
  // [C, H, W] planes -> interleaved H x W x C, RGB -> BGR.
  cv::Mat m(int(H), int(W), C == 3 ? CV_8UC3 : CV_8UC1);
  for (int64_t y = 0; y < H; ++y) {
    uint8_t* dst = m.ptr<uint8_t>(int(y));
    for (int64_t x = 0; x < W; ++x)
      for (int64_t c = 0; c < C; ++c) dst[x * C + (C == 3 ? 2 - c : c)] = row[(c * H + y) * W + x];
  }
  return plugins::imencode_jpeg(m, quality);
}

bool decode_jpeg_row(const unsigned char* data, size_t size, int64_t C, int64_t H, int64_t W, uint8_t* out,
                     std::string* why, const std::string& resize) {
  cv::Mat m = plugins::imdecode(data, size, C == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR, why);
  if (m.empty()) return false;
  if (!resize.empty()) {  // stored larger (--max-side): the reader's resize, as decode_image does a file
    ImageDecodeOptions o;
    o.size = H;
    o.channels = C;
    o.resize = resize;
    const auto t = fit_image(m, o, why);
    if (!t.defined()) return false;
    std::memcpy(out, t.data_ptr<uint8_t>(), size_t(C * H * W));
    return true;
  }
  if (m.rows != H || m.cols != W) {
    *why = str_cat("decodes to ", m.rows, " x ", m.cols, ", expected ", H, " x ", W);
    return false;
  }
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* src = m.ptr<uint8_t>(int(y));
    for (int64_t x = 0; x < W; ++x)
      for (int64_t c = 0; c < C; ++c) out[(c * H + y) * W + x] = src[x * C + (C == 3 ? 2 - c : c)];
  }
  return true;
}

std::vector<unsigned char> encode_jpeg_file(const std::string& path, const ImageDecodeOptions& o, int64_t max_side,
                                            int quality) {
  std::string why;
  cv::Mat m = plugins::imread(path, o.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR, &why);
  GPS_CHECK(!m.empty(), path, ": ", why);
  if (o.crop_bottom > 0) {
    GPS_CHECK(m.rows > o.crop_bottom, path, ": ", m.rows, " rows high, not more than the ", o.crop_bottom,
              " bottom rows to cut");
    m = m.rowRange(0, m.rows - int(o.crop_bottom));
  }
  const int shorter = std::min(m.rows, m.cols);
  if (shorter > max_side) {
    cv::Mat r;
    const double f = double(max_side) / shorter;
    cv::resize(m, r, cv::Size(std::max(1, int(std::lround(m.cols * f))), std::max(1, int(std::lround(m.rows * f)))), 0,
               0, cv::INTER_AREA);
    m = r;
  }
  if (!m.isContinuous()) m = m.clone();
  return plugins::imencode_jpeg(m, quality);
}

}  // namespace gps::store_format
