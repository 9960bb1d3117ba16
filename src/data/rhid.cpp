#include "gps/data/rhid.h"

#include "gps/core/check.h"
#include "gps/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace gps {

namespace fs = std::filesystem;

namespace {

// Accepted folder names of each split, first the canonical one.
const std::vector<std::vector<std::string>>& split_folders() {
  static const std::vector<std::vector<std::string>> s = {
      {"train"}, {"D_SS", "ss"}, {"D_SU", "su"}, {"D_UU", "uu"}, {"D_?\?", "D_unknown", "unknown"}};
  return s;
}

}  // namespace

std::string rhid_split_folder(const std::string& root, const std::string& split) {
  GPS_CHECK(fs::is_directory(root), "data.root: folder ", root, " does not exist",
            "\n---> HINT: R-HID is read as <root>/{train,D_SS,D_SU,D_UU,D_?\?}/<hotel id>/*.jpg");
  for (const auto& names : split_folders()) {
    if (std::find(names.begin(), names.end(), split) == names.end()) continue;
    for (const auto& n : names)
      if (fs::is_directory(fs::path(root) / n)) return (fs::path(root) / n).string();
    GPS_FAIL("data.root: R-HID split folder ", (fs::path(root) / names.front()).string(), " does not exist");
  }
  GPS_FAIL("data.name=rhid: unknown split '", split, "' (expected train, D_SS, D_SU, D_UU or D_?\?)");
}

Dataset load_rhid(const DataConfig& cfg, const std::string& split) {
  const auto o = image_decode_options(cfg);
  const std::string dir = rhid_split_folder(cfg.root, split);
  std::set<std::string> hotels;
  for (const auto& names : split_folders())
    for (const auto& n : names)
      if (fs::is_directory(fs::path(cfg.root) / n))
        for (const auto& h : subfolders((fs::path(cfg.root) / n).string())) hotels.insert(h);
  const std::vector<std::string> classes(hotels.begin(), hotels.end());
  GPS_CHECK(!subfolders(dir).empty(), "R-HID split folder ", dir, " has no hotel-id subfolders");
  const ImageFileList files = scan_split_folder(dir, classes, nullptr);
  Dataset d = decode_file_list(files, int64_t(classes.size()), o, "rhid/" + fs::path(dir).filename().string());
  if (d.channels() == 3) {
    d.mean = {0.4620f, 0.3980f, 0.3292f};
    d.std = {0.2619f, 0.2529f, 0.2460f};
  } else {
    d.mean = {0.3970f};
    d.std = {0.2536f};
  }
  d.split = split;
  d.validate();
  return d;
}

}  // namespace gps
