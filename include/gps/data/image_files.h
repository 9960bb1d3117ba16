// Decoding lists of image files (PNG, JPEG, ...) into one uint8 tensor of a
// fixed size, with a cache so a second run skips the decoding.
//
// Resize policies (`resize`), for an output side length S:
//   stretch      scale width and height independently to S x S (aspect ratio lost)
//   center-crop  scale so the shorter side is S, then cut the central S x S
//                (torchvision Resize(S) + CenterCrop(S)); the default
//   pad          scale so the longer side is S, then pad the borders with
//                black to S x S (nothing lost, aspect kept)
// Shrinking uses area interpolation (no aliasing), enlarging bilinear.
#pragma once

#include "gps/data/image_source.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace cv {
class Mat;  // callers of fit_image include <opencv2/core.hpp>
}

namespace gps {

struct ImageDecodeOptions {
  int64_t size = 224;                  // S: every image becomes [channels, S, S]
  int64_t channels = 3;                // 3: RGB (gray files replicated); 1: gray (colour files converted)
  std::string resize = "center-crop";  // stretch | center-crop | pad
  int64_t crop_bottom = 0;             // rows cut from the bottom before resizing (FGVC-Aircraft banner: 20)
  bool skip_bad = false;               // true: drop undecodable files with a report; false: throw
  std::string cache_dir;               // folder of decoded caches; "" = no cache
  bool on_read = false;                // decode when rows are read, never all at once (see scan_image_files)
};

// Throws gps::Error naming the data.* key of an invalid option.
void validate(const ImageDecodeOptions& o);

// Decodes one file into a [C, S, S] uint8 RGB/gray tensor. Returns an
// undefined tensor and sets *why when the file cannot be decoded (or is not
// taller than crop_bottom).
torch::Tensor decode_image(const std::string& path, const ImageDecodeOptions& o, std::string* why);

// What decode_image does after reading the file: `m` (8-bit, gray or BGR as
// OpenCV reads it, o.channels of them) loses its bottom o.crop_bottom rows
// and is resized by o.resize to [channels, size, size] RGB or gray.
// Undefined with *why set when it is not taller than crop_bottom.
torch::Tensor fit_image(cv::Mat m, const ImageDecodeOptions& o, std::string* why);

struct DecodedImages {
  torch::Tensor images;           // [M, C, S, S] uint8, contiguous: the files that decoded, in list order
  std::vector<int64_t> kept;      // [M] list index of each row
  std::vector<std::string> bad;   // "path: reason" of each file that did not decode
  std::vector<float> mean, std;   // per-channel statistics of `images` in [0, 1] units (kept in the cache)
  bool from_cache = false;
  std::string cache_file;         // cache read or written ("" without a cache)
};

// Decodes every file of `paths` (in parallel over LibTorch's threads). With
// o.cache_dir set, first looks for `<cache_dir>/images-<key>.bin`, the key
// hashing the format version, the options that change pixels (size,
// channels, resize, crop_bottom) and every path with its size and
// modification time; a missing, stale or corrupt cache (bad magic, header,
// length or CRC-32) is rebuilt and rewritten. Undecodable files: with
// o.skip_bad they are dropped and listed on stderr, otherwise gps::Error
// lists them (up to 20) and names `what`. Throws when `paths` is empty, a
// file is missing, or every file fails to decode.
DecodedImages load_image_files(const std::vector<std::string>& paths, const ImageDecodeOptions& o,
                               const std::string& what);

// For data larger than memory (`gps data pack` of an image-file dataset):
// decodes every file of `paths` once, a block at a time, to find the ones
// that decode and the channel statistics, keeping no pixels. The result's
// `images` is undefined; kept, bad, mean and std are what load_image_files
// gives (the same statistics, to the last bit), and the bad-image policy is
// applied the same way. No cache is read or written.
DecodedImages scan_image_files(const std::vector<std::string>& paths, const ImageDecodeOptions& o,
                               const std::string& what);

// The files `paths` as an ImageSource of [channels, size, size] images,
// decoded (in parallel) when their rows are fetched. A file that does not
// decode then throws gps::Error naming it.
ImageSourcePtr file_list_source(std::vector<std::string> paths, const ImageDecodeOptions& o);

// When `s` is a file_list_source: its files and options (true); else false.
bool file_list_of(const ImageSource& s, std::vector<std::string>* paths, ImageDecodeOptions* o);

// File extensions (lower case, with the dot) treated as images when scanning
// folders: .png .jpg .jpeg .bmp .tif .tiff .webp .ppm .pgm .pnm.
bool has_image_extension(const std::string& path);

}  // namespace gps
