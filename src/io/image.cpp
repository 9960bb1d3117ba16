#include "gps/io/image.h"

#include "gps/core/check.h"

#include <png.h>

#include <cstring>

namespace gps {

void save_png(const std::string& path, const torch::Tensor& image) {
  GPS_CHECK(path.size() > 4 && path.compare(path.size() - 4, 4, ".png") == 0, "save_png: '", path,
            "' must end in .png");
  GPS_CHECK(image.dim() == 3 && image.scalar_type() == torch::kUInt8 && image.device().is_cpu(),
            "save_png(", path, "): expected a [C, H, W] uint8 CPU image, got ", image.sizes(), " ",
            image.scalar_type());
  const int64_t C = image.size(0);
  GPS_CHECK(C == 1 || C == 3, "save_png(", path, "): expected 1 or 3 channels, got ", C);
  auto hwc = image.permute({1, 2, 0}).contiguous();  // libpng takes interleaved rows
  // libpng's simplified API: one call writes the whole file.
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = png_uint_32(image.size(2));
  png.height = png_uint_32(image.size(1));
  png.format = C == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  const int ok = png_image_write_to_file(&png, path.c_str(), 0, hwc.data_ptr<uint8_t>(), 0, nullptr);
  const std::string why = png.message;
  png_image_free(&png);
  GPS_CHECK(ok != 0, "save_png: cannot write '", path, "' (does the folder exist?): ", why);
}

}  // namespace gps
