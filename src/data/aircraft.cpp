#include "gps/data/aircraft.h"

#include "gps/core/check.h"
#include "gps/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace gps {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHint =
    "\n---> HINT: extract fgvc-aircraft-2013b.tar.gz from https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/ "
    "and point data.root at fgvc-aircraft-2013b (or its data/ folder)";

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  const auto b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b);
}

std::string data_dir(const std::string& root) {
  GPS_CHECK(fs::is_directory(root), "data.root: folder ", root, " does not exist", kHint);
  if (fs::is_directory(fs::path(root) / "data" / "images")) return (fs::path(root) / "data").string();
  GPS_CHECK(fs::is_directory(fs::path(root) / "images"), "data.root: ", root, " holds neither data/images/ nor ",
            "images/ (expected the FGVC-Aircraft layout)", kHint);
  return root;
}

}  // namespace

std::vector<AircraftLine> read_aircraft_split(const std::string& path) {
  std::ifstream f(path);
  GPS_CHECK(f, "FGVC-Aircraft split file ", path, " does not exist", kHint);
  std::vector<AircraftLine> out;
  std::string line;
  for (int64_t no = 1; std::getline(f, line); ++no) {
    line = trim(line);
    if (line.empty()) continue;
    const auto sp = line.find(' ');
    GPS_CHECK(sp != std::string::npos && !trim(line.substr(sp + 1)).empty(), path, ":", no,
              ": expected \"<image id> <variant name>\", got \"", line, "\"");
    out.push_back({line.substr(0, sp), trim(line.substr(sp + 1))});
  }
  GPS_CHECK(!out.empty(), "FGVC-Aircraft split file ", path, " lists no images");
  return out;
}

Dataset load_aircraft(const DataConfig& cfg, const std::string& split) {
  static const std::vector<std::string> kSplits = {"train", "val", "trainval", "test"};
  GPS_CHECK(std::find(kSplits.begin(), kSplits.end(), split) != kSplits.end(), "data.name=aircraft: unknown split '",
            split, "' (expected train, val, trainval or test)");
  auto o = image_decode_options(cfg);
  o.crop_bottom = kAircraftBannerRows;
  const std::string dir = data_dir(cfg.root);
  const auto lines = read_aircraft_split((fs::path(dir) / ("images_variant_" + split + ".txt")).string());

  // Class names: variants.txt order, else the sorted names of every split file.
  std::vector<std::string> classes;
  const auto variants = fs::path(dir) / "variants.txt";
  if (fs::exists(variants)) {
    std::ifstream f(variants);
    std::string line;
    while (std::getline(f, line))
      if (!trim(line).empty()) classes.push_back(trim(line));
    GPS_CHECK(!classes.empty(), variants.string(), " lists no variants");
  } else {
    std::set<std::string> names;
    for (const auto& s : kSplits) {
      const auto p = fs::path(dir) / ("images_variant_" + s + ".txt");
      if (fs::exists(p))
        for (const auto& l : read_aircraft_split(p.string())) names.insert(l.variant);
    }
    classes.assign(names.begin(), names.end());
  }

  ImageFileList files;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto it = std::find(classes.begin(), classes.end(), lines[i].variant);
    GPS_CHECK(it != classes.end(), "images_variant_", split, ".txt: variant '", lines[i].variant, "' of image ",
              lines[i].id, " is not listed in ", variants.string());
    files.paths.push_back((fs::path(dir) / "images" / (lines[i].id + ".jpg")).string());
    files.labels.push_back(int64_t(it - classes.begin()));
  }
  Dataset d = decode_file_list(files, int64_t(classes.size()), o, "aircraft/" + split);
  if (d.channels() == 3) {
    d.mean = {0.485f, 0.456f, 0.406f};
    d.std = {0.229f, 0.224f, 0.225f};
  } else {
    d.mean = {0.449f};
    d.std = {0.226f};
  }
  d.split = split;
  d.validate();
  return d;
}

}  // namespace gps
