#include "gps/data/registry.h"

#include "gps/core/check.h"
#include "gps/data/aircraft.h"
#include "gps/data/cifar.h"
#include "gps/data/idx.h"
#include "gps/data/image_folder.h"
#include "gps/data/image_store.h"
#include "gps/data/medmnist.h"
#include "gps/data/rhid.h"

#include <filesystem>

namespace gps {

namespace {

// Finds `<root>/<stem>` or `<root>/<stem>.gz`.
std::string find_idx(const std::string& root, const std::string& stem) {
  namespace fs = std::filesystem;
  GPS_CHECK(fs::is_directory(root), "data.root: folder ", root, " does not exist",
            "\n---> HINT: Fashion-MNIST comes with the Debian package dataset-fashion-mnist "
            "(scripts/setup.sh installs it)");
  for (const auto& name : {stem + ".gz", stem}) {
    const auto p = fs::path(root) / name;
    if (fs::exists(p)) return p.string();
  }
  GPS_FAIL("data.root: neither ", (fs::path(root) / stem).string(), " nor its .gz found");
}

Dataset load_mnist_like(const DataConfig& cfg, const std::string& split) {
  GPS_CHECK(split == "train" || split == "test", "unknown split '", split, "' (expected train or test)");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto img_path = find_idx(cfg.root, prefix + "-images-idx3-ubyte");
  const auto lab_path = find_idx(cfg.root, prefix + "-labels-idx1-ubyte");
  auto images = read_idx(img_path);
  auto labels = read_idx(lab_path);
  GPS_CHECK(images.dim() == 3, img_path, ": expected a rank-3 IDX image file [N, H, W], got rank ", images.dim());
  GPS_CHECK(labels.dim() == 1, lab_path, ": expected a rank-1 IDX label file [N], got rank ", labels.dim());
  GPS_CHECK(images.size(0) == labels.size(0), img_path, " has ", images.size(0), " images but ", lab_path,
            " has ", labels.size(0), " labels");
  Dataset d;
  d.name = cfg.name + "/" + split;
  d.set_images(images.unsqueeze(1).contiguous());
  d.labels = labels.to(torch::kInt64);
  d.num_classes = 10;
  d.split = split;
  d.source_size = d.size();
  // Fixed normalisation constants of the train split (computed once, so train
  // and test use the same numbers).
  if (cfg.name == "fashion-mnist") {
    d.mean = {0.2860f};
    d.std = {0.3530f};
  } else {
    d.mean = {0.1307f};
    d.std = {0.3081f};
  }
  d.validate();
  return d;
}

}  // namespace

bool is_image_file_dataset(const std::string& name) {
  return name == "folder" || name == "aircraft" || name == "rhid";
}

void validate(const DataConfig& data) {
  if (!is_image_file_dataset(data.name)) {
    GPS_CHECK(data.image_size == 0, "data.image_size only applies to data.name folder, aircraft or rhid, not '",
              data.name, "' (leave it at 0)");
    GPS_CHECK(data.channels == 0, "data.channels only applies to data.name folder, aircraft or rhid, not '",
              data.name, "' (leave it at 0)");
  }
  GPS_CHECK(data.order == "random" || data.order == "quasi-random", "data.order: '", data.order,
            "' is not one of: random|quasi-random");
  GPS_CHECK(data.order_window >= 1, "data.order_window must be >= 1, got ", data.order_window);
  GPS_CHECK(data.channels != 2, "data.channels: expected 1 (gray), 3 (RGB) or 0 (default 3), got 2");
  GPS_CHECK(data.medmnist_flag.empty() || data.name == "medmnist", "data.medmnist_flag only applies to ",
            "data.name=medmnist, not '", data.name, "'");
  GPS_CHECK(data.cifar100_labels == "fine" || data.name == "cifar100", "data.cifar100_labels=",
            data.cifar100_labels, " only applies to data.name=cifar100, not '", data.name, "'");
}

Dataset load_dataset(const DataConfig& cfg, const std::string& split) {
  const bool train_role = split == "train";
  const std::string actual = split == "train" ? cfg.train_split : split == "test" ? cfg.test_split : split;
  GPS_CHECK(!actual.empty(), "data.", train_role ? "train_split" : "test_split", " is empty");
  Dataset d;
  if (cfg.name == "fashion-mnist" || cfg.name == "mnist") {
    d = load_mnist_like(cfg, actual);
  } else if (cfg.name == "cifar10" || cfg.name == "cifar100") {
    d = load_cifar(cfg, actual);
  } else if (cfg.name == "medmnist") {
    d = load_medmnist(cfg, actual);
  } else if (cfg.name == "folder") {
    d = load_image_folder(cfg, actual);
  } else if (cfg.name == "aircraft") {
    d = load_aircraft(cfg, actual);
  } else if (cfg.name == "rhid") {
    d = load_rhid(cfg, actual);
  } else if (cfg.name == "store") {
    d = store_dataset(store_path(cfg.root, actual));
  } else {
    GPS_FAIL("data.name: unknown dataset '", cfg.name,
             "' (expected one of: fashion-mnist, mnist, cifar10, cifar100, medmnist, folder, aircraft, rhid, store)");
  }
  d.split = train_role ? "train" : "test";
  const int64_t n = train_role ? cfg.subset : cfg.test_subset;
  if (n > 0) d = stratified_subset(d, n, uint64_t(cfg.seed));
  return d;
}

}  // namespace gps
