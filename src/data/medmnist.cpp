#include "gps/data/medmnist.h"

#include "gps/core/check.h"
#include "gps/io/npz.h"

#include <filesystem>
#include <map>

namespace gps {

namespace {

constexpr const char* kHint =
    "\n---> HINT: MedMNIST v2 .npz files (https://zenodo.org/records/10519652) hold train/val/test _images "
    "(uint8 [N, H, W] or [N, H, W, 3]) and _labels ([N, 1])";

// "pathmnist_64" -> "pathmnist".
std::string base_flag(std::string flag) {
  const auto us = flag.rfind('_');
  if (us != std::string::npos && us + 1 < flag.size() &&
      flag.find_first_not_of("0123456789", us + 1) == std::string::npos)
    flag.resize(us);
  return flag;
}

// Checks a labels array and returns it as [N] int64.
torch::Tensor labels_of(const torch::Tensor& t, const std::string& what) {
  const auto dt = t.scalar_type();
  GPS_CHECK(dt == torch::kUInt8 || dt == torch::kInt32 || dt == torch::kInt64, what, ": labels must be integers (",
            "uint8, int32 or int64), got dtype ", dt, kHint);
  GPS_CHECK(t.dim() == 1 || t.dim() == 2, what, ": labels must be [N, 1] or [N], got shape ", t.sizes(), kHint);
  GPS_CHECK(t.dim() == 1 || t.size(1) == 1, what, ": labels have ", t.size(1),
            " columns: multi-label datasets (chestmnist) are not supported, expected [N, 1]", kHint);
  return t.reshape({-1}).to(torch::kInt64).contiguous();
}

}  // namespace

int64_t medmnist_num_classes(const std::string& flag) {
  static const std::map<std::string, int64_t> classes = {
      {"pathmnist", 9},  {"octmnist", 4},    {"pneumoniamnist", 2}, {"dermamnist", 7},
      {"retinamnist", 5}, {"breastmnist", 2}, {"bloodmnist", 8},     {"tissuemnist", 8},
      {"organamnist", 11}, {"organcmnist", 11}, {"organsmnist", 11}};
  const auto it = classes.find(base_flag(flag));
  return it == classes.end() ? 0 : it->second;
}

std::string medmnist_file(const DataConfig& cfg) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(cfg.root)) return cfg.root;
  GPS_CHECK(fs::is_directory(cfg.root), "data.root: ", cfg.root, " does not exist (expected a MedMNIST .npz file, ",
            "or a folder with data.medmnist_flag)", kHint);
  GPS_CHECK(!cfg.medmnist_flag.empty(), "data.root: ", cfg.root, " is a folder; set data.medmnist_flag (e.g. ",
            "pathmnist) to read <root>/<flag>.npz, or point data.root at the .npz file");
  const auto p = fs::path(cfg.root) / (cfg.medmnist_flag + ".npz");
  GPS_CHECK(fs::is_regular_file(p), "data.medmnist_flag: ", p.string(), " does not exist", kHint);
  return p.string();
}

Dataset load_medmnist(const DataConfig& cfg, const std::string& split) {
  GPS_CHECK(split == "train" || split == "val" || split == "test", "data.name=medmnist: unknown split '", split,
            "' (expected train, val or test)");
  const std::string path = medmnist_file(cfg);
  const std::string flag = cfg.medmnist_flag.empty() ? std::filesystem::path(path).stem().string() : cfg.medmnist_flag;
  const int64_t known = medmnist_num_classes(flag);
  GPS_CHECK(base_flag(flag) != "chestmnist", path, ": chestmnist is multi-label (14 binary labels); ",
            "only single-label MedMNIST datasets are supported");
  const std::string img_key = split + "_images", lab_key = split + "_labels";
  std::vector<std::string> want = {img_key, lab_key};
  if (known == 0 && split != "train") want.push_back("train_labels");
  auto arrays = load_npz(path, want);

  const auto& raw = arrays.at(img_key);
  const std::string img_what = path + ":" + img_key;
  GPS_CHECK(raw.scalar_type() == torch::kUInt8, img_what, ": images must be uint8, got dtype ", raw.scalar_type(), kHint);
  torch::Tensor images;
  if (raw.dim() == 3) {
    images = raw.unsqueeze(1).contiguous();
  } else if (raw.dim() == 4 && (raw.size(3) == 3 || raw.size(3) == 1)) {
    images = raw.permute({0, 3, 1, 2}).contiguous();
  } else {
    GPS_FAIL(img_what, ": images must be [N, H, W] (gray) or [N, H, W, 3] (RGB), got shape ", raw.sizes(), kHint);
  }
  GPS_CHECK(images.size(0) > 0, img_what, ": no images");
  auto labels = labels_of(arrays.at(lab_key), path + ":" + lab_key);
  GPS_CHECK(labels.size(0) == images.size(0), path, ": ", img_key, " has ", images.size(0), " images but ", lab_key,
            " has ", labels.size(0), " labels");

  int64_t classes = known;
  if (classes == 0) {
    // Unknown flag: the classes are the labels of the train split.
    const auto train = split == "train" ? labels : labels_of(arrays.at("train_labels"), path + ":train_labels");
    classes = train.max().item<int64_t>() + 1;
  }
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  GPS_CHECK(lo >= 0 && hi < classes, path, ":", lab_key, ": label ", lo < 0 ? lo : hi, " out of range [0, ", classes,
            ")", known ? str_cat(" (", base_flag(flag), " has ", known, " classes)") : std::string(), kHint);

  Dataset d;
  d.name = "medmnist-" + flag + "/" + split;
  d.set_images(images);
  d.labels = labels;
  d.num_classes = classes;
  d.split = split;
  d.source_size = d.size();
  // ImageNet constants, as the reference runs use (docs/reference-behaviour.md §5).
  if (d.channels() == 3) {
    d.mean = {0.485f, 0.456f, 0.406f};
    d.std = {0.229f, 0.224f, 0.225f};
  } else {
    d.mean = {0.449f};
    d.std = {0.226f};
  }
  d.validate();
  return d;
}

}  // namespace gps
