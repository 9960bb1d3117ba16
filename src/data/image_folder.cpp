#include "gps/data/image_folder.h"

#include "gps/core/check.h"

#include <algorithm>
#include <filesystem>

namespace gps {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

}  // namespace

ImageDecodeOptions image_decode_options(const DataConfig& cfg) {
  ImageDecodeOptions o;
  o.size = cfg.image_size > 0 ? cfg.image_size : 224;
  o.channels = cfg.channels > 0 ? cfg.channels : 3;
  o.resize = cfg.resize;
  GPS_CHECK(cfg.on_bad_image == "fail" || cfg.on_bad_image == "skip", "data.on_bad_image: expected fail or skip, got '",
            cfg.on_bad_image, "'");
  o.skip_bad = cfg.on_bad_image == "skip";
  o.cache_dir = cfg.cache_dir;
  o.on_read = cfg.decode_on_read;
  validate(o);
  return o;
}

std::vector<std::string> image_files_under(const std::string& dir) {
  GPS_CHECK(fs::is_directory(dir), "folder ", dir, " does not exist");
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
       it != fs::recursive_directory_iterator(); ++it) {
    if (hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && has_image_extension(it->path().string())) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> subfolders(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && !hidden(e.path())) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

ImageFileList scan_split_folder(const std::string& dir, const std::vector<std::string>& classes,
                                std::vector<std::string>* classes_out) {
  GPS_CHECK(fs::is_directory(dir), "folder ", dir, " does not exist");
  const auto subs = subfolders(dir);
  std::vector<std::string> loose;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && !hidden(e.path()) && has_image_extension(e.path().string()))
      loose.push_back(e.path().string());
  ImageFileList out;
  if (subs.empty()) {
    std::sort(loose.begin(), loose.end());
    GPS_CHECK(!loose.empty(), "folder ", dir, " holds no images (expected image files, or one subfolder per class; ",
              "extensions .png .jpg .jpeg .bmp .tif .tiff .webp .ppm .pgm .pnm)");
    out.paths = std::move(loose);
    if (classes_out) classes_out->clear();
    return out;
  }
  GPS_CHECK(loose.empty(), "folder ", dir, " mixes ", loose.size(), " image files (e.g. ", loose.front(), ") with ",
            subs.size(), " class subfolders; put every image in a class folder, or use a flat folder without labels");
  const auto& names = classes.empty() ? subs : classes;
  for (const auto& s : subs) {
    const auto it = std::find(names.begin(), names.end(), s);
    GPS_CHECK(it != names.end(), "folder ", (fs::path(dir) / s).string(), ": class '", s,
              "' is not among the classes of the train split (", names.size(), " classes)");
    const auto files = image_files_under((fs::path(dir) / s).string());
    GPS_CHECK(!files.empty(), "class folder ", (fs::path(dir) / s).string(), " holds no images");
    for (const auto& f : files) {
      out.paths.push_back(f);
      out.labels.push_back(int64_t(it - names.begin()));
    }
  }
  if (classes_out) *classes_out = subs;
  return out;
}

Dataset decode_file_list(const ImageFileList& files, int64_t num_classes, const ImageDecodeOptions& o,
                         const std::string& name) {
  GPS_CHECK(files.labels.empty() || files.labels.size() == files.paths.size(), name, ": one label per file expected");
  Dataset d;
  d.name = name;
  DecodedImages dec;
  if (o.on_read) {  // data larger than memory: decoded when read (gps data pack)
    dec = scan_image_files(files.paths, o, name);
    std::vector<std::string> kept;
    for (int64_t i : dec.kept) kept.push_back(files.paths[size_t(i)]);
    d.pixels = file_list_source(std::move(kept), o);
  } else {
    dec = load_image_files(files.paths, o, name);
    d.set_images(dec.images);
  }
  if (!files.labels.empty()) {
    std::vector<int64_t> lab;
    lab.reserve(dec.kept.size());
    for (int64_t i : dec.kept) lab.push_back(files.labels[size_t(i)]);
    d.labels = torch::tensor(lab, torch::kInt64);
    d.num_classes = num_classes;
  }
  d.source_size = d.size();
  d.mean = dec.mean;
  d.std = dec.std;
  return d;
}

Dataset load_image_folder(const DataConfig& cfg, const std::string& split) {
  const auto o = image_decode_options(cfg);
  GPS_CHECK(fs::is_directory(cfg.root), "data.root: folder ", cfg.root, " does not exist");
  const bool split_layout = fs::is_directory(fs::path(cfg.root) / "train");
  std::string dir;
  if (split_layout) {
    dir = (fs::path(cfg.root) / split).string();
    GPS_CHECK(fs::is_directory(dir), "data.root: ", cfg.root, " has no ", split, "/ folder (splits present: ",
              [&] {
                std::string s;
                for (auto& n : subfolders(cfg.root)) s += (s.empty() ? "" : ", ") + n;
                return s;
              }(),
              ")");
  } else {
    GPS_CHECK(split == "train", "data.root: ", cfg.root, " has no train/ and ", split,
              "/ subfolders, so it is one train split only; add ", (fs::path(cfg.root) / split).string(),
              " (and move the train images to ", (fs::path(cfg.root) / "train").string(),
              ") or set eval.enabled=false");
    dir = cfg.root;
  }
  // Class names come from the train split so every split shares the labels.
  std::vector<std::string> classes;
  const std::string train_dir = split_layout ? (fs::path(cfg.root) / "train").string() : cfg.root;
  ImageFileList train_files = scan_split_folder(train_dir, {}, &classes);
  const ImageFileList files = split == "train" ? train_files : scan_split_folder(dir, classes, nullptr);
  GPS_CHECK(files.labels.empty() == train_files.labels.empty(), "data.root: ", dir, " and ", train_dir,
            " must both have class subfolders or both be flat");
  Dataset d = decode_file_list(files, int64_t(classes.size()), o, "folder/" + split);
  if (split != "train") {
    const Dataset train = decode_file_list(train_files, int64_t(classes.size()), o, "folder/train");
    d.mean = train.mean;
    d.std = train.std;
  }
  for (auto& s : d.std) s = std::max(s, 1e-3f);  // a constant-colour dataset must not divide by 0
  d.split = split;
  d.validate();
  return d;
}

}  // namespace gps
