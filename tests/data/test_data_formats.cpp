// Dataset readers: CIFAR binaries, MedMNIST .npz, image folders, FGVC-Aircraft,
// R-HID, and the decoded-image cache. Every test writes tiny files in the real
// format and reads them back exactly; corrupt inputs must fail with messages
// that name the file and the problem.
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/data/aircraft.h"
#include "gps/data/cifar.h"
#include "gps/data/image_cache.h"
#include "gps/data/image_files.h"
#include "gps/data/image_folder.h"
#include "gps/data/registry.h"
#include "gps/experiment/grid.h"
#include "gps/io/npz.h"
#include "data_fixtures.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace gps;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace gps::fixtures;


// ---------------------------------------------------------------- CIFAR

TEST(Cifar, ReadsCifar10PlanesAndLabelsExactly) {
  test::TempDir tmp;
  write_cifar10(tmp);
  // data.root may be the extracted folder or its parent.
  for (auto root : {tmp.file("cifar-10-batches-bin"), tmp.path.string()}) {
    auto train = load_dataset(data_config("cifar10", root), "train");
    ASSERT_EQ(train.all_images().sizes(), (std::vector<int64_t>{15, 3, 32, 32}));
    EXPECT_EQ(train.name, "cifar10/train");
    EXPECT_EQ(train.split, "train");
    EXPECT_EQ(train.num_classes, 10);
    EXPECT_EQ(train.source_size, 15);
    for (int i = 0; i < 15; ++i) {
      EXPECT_EQ(train.labels[i].item<int64_t>(), i % 10);
      for (auto [c, y, x] : {std::tuple{0, 0, 0}, {1, 5, 9}, {2, 31, 31}, {0, 17, 3}})
        ASSERT_EQ(train.all_images()[i][c][y][x].item<int>(), cifar_pixel(i, c, y, x)) << i << " " << c << y << x;
    }
    auto test = load_dataset(data_config("cifar10", root), "test");
    ASSERT_EQ(test.size(), 4);
    EXPECT_EQ(test.split, "test");
    EXPECT_EQ(test.all_images()[3][2][10][20].item<int>(), cifar_pixel(103, 2, 10, 20));
    EXPECT_EQ(test.labels[3].item<int64_t>(), 103 % 10);
    EXPECT_FLOAT_EQ(test.mean[0], 0.4914f);
    EXPECT_FLOAT_EQ(test.std[2], 0.2616f);
  }
}

TEST(Cifar, ReadsCifar100FineAndCoarseLabels) {
  test::TempDir tmp;
  const auto dir = tmp.file("cifar-100-binary");
  fs::create_directories(dir);
  test::write_bytes(dir + "/train.bin", cifar_records(0, 6, true));
  test::write_bytes(dir + "/test.bin", cifar_records(50, 2, true));
  auto cfg = data_config("cifar100", tmp.path.string());
  auto fine = load_dataset(cfg, "train");
  EXPECT_EQ(fine.num_classes, 100);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(fine.labels[i].item<int64_t>(), (i * 7) % 100);
  EXPECT_EQ(fine.all_images()[5][1][2][3].item<int>(), cifar_pixel(5, 1, 2, 3));
  cfg.cifar100_labels = "coarse";
  auto coarse = load_dataset(cfg, "test");
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(coarse.labels[1].item<int64_t>(), 51 % 20);
  EXPECT_EQ(coarse.all_images()[1][2][31][0].item<int>(), cifar_pixel(51, 2, 31, 0));
}

TEST(Cifar, TruncatedRecordNamesFileAndOffset) {
  test::TempDir tmp;
  const auto dir = write_cifar10(tmp);
  test::write_bytes(dir + "/test_batch.bin", cifar_records(0, 2, false) + std::string(100, '\0'));
  const auto msg = test::error_of([&] { load_dataset(data_config("cifar10", dir), "test"); });
  EXPECT_THAT(msg, HasSubstr(dir + "/test_batch.bin"));
  EXPECT_THAT(msg, HasSubstr("truncated record 2 at byte offset 6146"));
  EXPECT_THAT(msg, HasSubstr("100 of 3073 bytes"));
}

TEST(Cifar, LabelOutOfRangeAndMissingBatch) {
  test::TempDir tmp;
  const auto dir = write_cifar10(tmp);
  auto recs = cifar_records(0, 3, false);
  recs[3073] = 10;  // label byte of record 1
  test::write_bytes(dir + "/data_batch_2.bin", recs);
  auto msg = test::error_of([&] { load_dataset(data_config("cifar10", dir), "train"); });
  EXPECT_THAT(msg, HasSubstr(dir + "/data_batch_2.bin"));
  EXPECT_THAT(msg, HasSubstr("record 1 (byte offset 3073) has label 10, out of range [0, 10)"));

  fs::remove(dir + "/data_batch_4.bin");
  msg = test::error_of([&] { load_dataset(data_config("cifar10", dir), "train"); });
  EXPECT_THAT(msg, HasSubstr(dir + "/data_batch_4.bin"));
  EXPECT_THAT(msg, HasSubstr("does it exist"));
  EXPECT_THAT(test::error_of([&] { load_dataset(data_config("cifar10", dir), "val"); }),
              HasSubstr("unknown split 'val'"));
}

// ---------------------------------------------------------------- MedMNIST


TEST(MedMnist, ReadsRgbSplitsExactly) {
  test::TempDir tmp;
  const auto arrays = medmnist_rgb_arrays();
  save_npz(tmp.file("pathmnist.npz"), arrays, /*compress=*/true);  // like np.savez_compressed
  for (auto split : {"train", "val", "test"}) {
    auto d = load_dataset(data_config("medmnist", tmp.file("pathmnist.npz")), split);
    const auto& img = arrays.at(std::string(split) + "_images");  // [N, H, W, 3]
    ASSERT_EQ(d.all_images().sizes(), (std::vector<int64_t>{img.size(0), 3, 5, 7}));
    EXPECT_TRUE(torch::equal(d.all_images(), img.permute({0, 3, 1, 2}))) << split;
    EXPECT_EQ(d.all_images()[1][2][4][6].item<int>(), img[1][4][6][2].item<int>());
    EXPECT_TRUE(torch::equal(d.labels, arrays.at(std::string(split) + "_labels").reshape({-1}).to(torch::kInt64)));
    EXPECT_EQ(d.num_classes, 9);
    EXPECT_FLOAT_EQ(d.mean[0], 0.485f);
  }
  // data.root as a folder plus data.medmnist_flag; test role mapped to val.
  auto cfg = data_config("medmnist", tmp.path.string());
  cfg.medmnist_flag = "pathmnist";
  cfg.test_split = "val";
  auto val = load_dataset(cfg, "test");
  EXPECT_EQ(val.split, "test");
  EXPECT_EQ(val.name, "medmnist-pathmnist/val");
  EXPECT_EQ(val.size(), 3);
}

TEST(MedMnist, ReadsGrayWithInt64LabelsAndUnknownFlag) {
  test::TempDir tmp;
  std::map<std::string, torch::Tensor> m;
  for (auto split : {"train", "val", "test"}) {
    m[std::string(split) + "_images"] = torch::arange(4 * 3 * 2, torch::kInt64).to(torch::kUInt8).reshape({4, 3, 2});
    m[std::string(split) + "_labels"] = torch::tensor({0, 3, 1, 2}, torch::kInt64).reshape({4, 1});
  }
  save_npz(tmp.file("mymnist.npz"), m);
  auto d = load_dataset(data_config("medmnist", tmp.file("mymnist.npz")), "test");
  ASSERT_EQ(d.all_images().sizes(), (std::vector<int64_t>{4, 1, 3, 2}));
  EXPECT_EQ(d.all_images()[2][0][1][1].item<int>(), 2 * 6 + 1 * 2 + 1);
  EXPECT_EQ(d.num_classes, 4);  // unknown flag: max train label + 1
  EXPECT_EQ(d.mean.size(), 1u);
  EXPECT_FLOAT_EQ(d.mean[0], 0.449f);
}

TEST(MedMnist, ReadsAFileWrittenByNumpy) {
  if (std::system(GPS_PYTHON " -c 'import numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << GPS_PYTHON " with numpy not installed (the project venv: scripts/setup.sh)";
  test::TempDir tmp;
  const auto path = tmp.file("tissuemnist.npz");
  const std::string cmd =
      GPS_PYTHON " -c \"import numpy as np; i = (np.arange(5*4*4) % 256).astype(np.uint8).reshape(5, 4, 4); "
      "l = np.array([[0], [7], [3], [1], [2]], dtype=np.uint8); np.savez_compressed('" + path +
      "', train_images=i, train_labels=l, val_images=i[:2], val_labels=l[:2], test_images=i[1:], test_labels=l[1:])\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto d = load_dataset(data_config("medmnist", path), "test");
  ASSERT_EQ(d.all_images().sizes(), (std::vector<int64_t>{4, 1, 4, 4}));
  EXPECT_EQ(d.all_images()[0][0][0][0].item<int>(), 16);
  EXPECT_EQ(d.all_images()[3][0][3][3].item<int>(), 79);
  EXPECT_EQ(d.labels[0].item<int64_t>(), 7);
  EXPECT_EQ(d.num_classes, 8);
}

TEST(MedMnist, BadArraysAreNamed) {
  test::TempDir tmp;
  const auto good = medmnist_rgb_arrays();
  // Each case in its own folder, as <case>/pathmnist.npz (the file name gives the class count).
  auto check = [&](const std::string& name, std::map<std::string, torch::Tensor> m, const std::string& split,
                   std::vector<std::string> fragments) {
    const auto file = tmp.file(name + "/pathmnist.npz");
    fs::create_directories(tmp.file(name));
    save_npz(file, m);
    const auto msg = test::error_of([&] { load_dataset(data_config("medmnist", file), split); });
    EXPECT_THAT(msg, HasSubstr(file));
    for (const auto& f : fragments) EXPECT_THAT(msg, HasSubstr(f));
  };
  auto m = good;
  m.erase("val_labels");
  check("missing", m, "val", {"no array 'val_labels'", "train_images", "val_images"});
  m = good;
  m["train_images"] = m["train_images"].to(torch::kFloat32);
  check("dtype", m, "train", {"train_images", "must be uint8", "Float"});
  m = good;
  m["test_images"] = torch::zeros({4, 35}, torch::kUInt8);
  check("rank", m, "test", {"test_images", "[N, H, W]", "[4, 35]"});
  m = good;
  m["test_labels"] = torch::zeros({3, 1}, torch::kUInt8);
  check("count", m, "test", {"test_images has 4 images but test_labels has 3 labels"});
  m = good;
  m["train_labels"] = torch::tensor({0, 1, 2, 9, 4, 5}, torch::kInt64).reshape({6, 1});
  check("range", m, "train", {"train_labels", "label 9 out of range [0, 9)", "pathmnist has 9 classes"});
  m = good;
  m["val_labels"] = torch::zeros({3, 14}, torch::kUInt8);
  check("multi", m, "val", {"val_labels", "multi-label"});
  m = good;
  m["val_labels"] = torch::zeros({3, 1}, torch::kFloat32);
  check("fl", m, "val", {"val_labels", "labels must be integers"});

  auto cfg = data_config("medmnist", tmp.path.string());
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "train"); }), HasSubstr("data.medmnist_flag"));
  cfg.medmnist_flag = "octmnist";
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "train"); }), HasSubstr(tmp.file("octmnist.npz")));
}

// ---------------------------------------------------------------- image folders

TEST(ImageFolder, ReadsClassFoldersExactlyInRgbOrder) {
  test::TempDir tmp;
  const auto root = tmp.file("imgs");
  // Classes "cat" < "dog"; PNG is lossless, so pixels come back exactly.
  const auto a = random_image(6, 6, 1), b = random_image(6, 6, 2), c = random_image(6, 6, 3);
  write_image(root + "/train/dog/x.png", a);
  write_image(root + "/train/cat/y.png", b);
  write_image(root + "/train/cat/sub/z.png", c);  // found recursively
  test::write_bytes(root + "/train/cat/notes.txt", "ignored");
  write_image(root + "/test/dog/t.png", c);
  auto cfg = data_config("folder", root);
  cfg.image_size = 6;
  auto d = load_dataset(cfg, "train");
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_TRUE(torch::equal(d.labels, torch::tensor({0, 0, 1}, torch::kInt64)));
  // Sorted paths: cat/sub/z.png, cat/y.png, dog/x.png.
  EXPECT_TRUE(torch::equal(d.all_images()[0], c));
  EXPECT_TRUE(torch::equal(d.all_images()[1], b));
  EXPECT_TRUE(torch::equal(d.all_images()[2], a));
  EXPECT_EQ(d.mean.size(), 3u);
  auto t = load_dataset(cfg, "test");
  EXPECT_TRUE(torch::equal(t.labels, torch::tensor({1}, torch::kInt64)));  // dog keeps the train label
  EXPECT_TRUE(torch::equal(t.all_images()[0], c));
  EXPECT_EQ(t.mean, d.mean);  // train statistics
}

TEST(ImageFolder, ExplicitColourOrderAndJpeg) {
  test::TempDir tmp;
  // A pure red image written through a BGR cv::Mat must read back as R = 255.
  cv::Mat red(4, 4, CV_8UC3, cv::Scalar(0, 0, 255));  // B, G, R
  fs::create_directories(tmp.file("f"));
  ASSERT_TRUE(cv::imwrite(tmp.file("f/red.png"), red));
  ASSERT_TRUE(cv::imwrite(tmp.file("f/red.jpg"), red, {cv::IMWRITE_JPEG_QUALITY, 100}));
  auto cfg = data_config("folder", tmp.file("f"));
  cfg.image_size = 4;
  auto d = load_dataset(cfg, "train");
  ASSERT_EQ(d.size(), 2);
  EXPECT_FALSE(d.has_labels());
  EXPECT_EQ(d.num_classes, 0);
  EXPECT_LE(max_abs_diff(d.all_images(), solid(4, 4, 255, 0, 0).unsqueeze(0).expand({2, 3, 4, 4})), 4);
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "test"); }), HasSubstr("no train/ and test/"));
  // Gray output converts colour files.
  cfg.channels = 1;
  auto g = load_dataset(cfg, "train");
  ASSERT_EQ(g.channels(), 1);
  EXPECT_NEAR(g.all_images()[0][0][0][0].item<int>(), 76, 2);  // 0.299 * 255
}

TEST(ImageFolder, ResizePolicies) {
  test::TempDir tmp;
  // 40 wide, 20 high: left half red, right half blue.
  auto img = torch::cat({solid(20, 20, 255, 0, 0), solid(20, 20, 0, 0, 255)}, 2);
  write_image(tmp.file("f/wide.png"), img);
  ImageDecodeOptions o;
  o.size = 10;
  std::string why;
  auto is = [](const torch::Tensor& im, int y, int x, int r, int g, int b) {
    return std::abs(im[0][y][x].item<int>() - r) <= 2 && std::abs(im[1][y][x].item<int>() - g) <= 2 &&
           std::abs(im[2][y][x].item<int>() - b) <= 2;
  };
  o.resize = "stretch";  // 40x20 -> 10x10: columns 0-4 red, 5-9 blue
  auto s = decode_image(tmp.file("f/wide.png"), o, &why);
  ASSERT_TRUE(s.defined()) << why;
  EXPECT_TRUE(is(s, 5, 1, 255, 0, 0));
  EXPECT_TRUE(is(s, 5, 8, 0, 0, 255));
  o.resize = "center-crop";  // -> 20x10, keep columns 5-14: 0-4 red, 5-9 blue
  auto c = decode_image(tmp.file("f/wide.png"), o, &why);
  EXPECT_TRUE(is(c, 0, 0, 255, 0, 0));
  EXPECT_TRUE(is(c, 9, 3, 255, 0, 0));
  EXPECT_TRUE(is(c, 9, 6, 0, 0, 255));
  EXPECT_TRUE(is(c, 0, 9, 0, 0, 255));
  o.resize = "pad";  // -> 10x5 image, rows 2-6, black rows 0-1 and 7-9
  auto p = decode_image(tmp.file("f/wide.png"), o, &why);
  EXPECT_TRUE(is(p, 0, 5, 0, 0, 0));
  EXPECT_TRUE(is(p, 1, 2, 0, 0, 0));
  EXPECT_TRUE(is(p, 4, 1, 255, 0, 0));
  EXPECT_TRUE(is(p, 4, 8, 0, 0, 255));
  EXPECT_TRUE(is(p, 7, 5, 0, 0, 0));
  EXPECT_TRUE(is(p, 9, 5, 0, 0, 0));
}

TEST(ImageFolder, UndecodableImageFailOrSkip) {
  test::TempDir tmp;
  const auto root = tmp.file("d");
  write_image(root + "/a/1.png", random_image(5, 5, 4));
  write_image(root + "/b/2.png", random_image(5, 5, 5));
  test::write_bytes(root + "/a/broken.png", "definitely not a PNG");
  auto cfg = data_config("folder", root);
  cfg.image_size = 5;
  const auto msg = test::error_of([&] { load_dataset(cfg, "train"); });
  EXPECT_THAT(msg, HasSubstr("cannot decode 1 of 3 image files"));
  EXPECT_THAT(msg, HasSubstr(root + "/a/broken.png"));
  EXPECT_THAT(msg, HasSubstr("data.on_bad_image=skip"));
  cfg.on_bad_image = "skip";
  testing::internal::CaptureStderr();
  auto d = load_dataset(cfg, "train");
  const auto report = testing::internal::GetCapturedStderr();
  EXPECT_THAT(report, HasSubstr("skipped 1 undecodable"));
  EXPECT_THAT(report, HasSubstr(root + "/a/broken.png"));
  ASSERT_EQ(d.size(), 2);
  EXPECT_TRUE(torch::equal(d.labels, torch::tensor({0, 1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(d.all_images()[1], random_image(5, 5, 5)));
}

TEST(ImageFolder, EmptyAndMalformedFoldersAreNamed) {
  test::TempDir tmp;
  fs::create_directories(tmp.file("empty"));
  auto cfg = data_config("folder", tmp.file("empty"));
  auto msg = test::error_of([&] { load_dataset(cfg, "train"); });
  EXPECT_THAT(msg, HasSubstr(tmp.file("empty")));
  EXPECT_THAT(msg, HasSubstr("holds no images"));

  fs::create_directories(tmp.file("cls/a"));
  fs::create_directories(tmp.file("cls/b"));
  write_image(tmp.file("cls/a/1.png"), random_image(4, 4, 1));
  cfg.root = tmp.file("cls");
  msg = test::error_of([&] { load_dataset(cfg, "train"); });
  EXPECT_THAT(msg, HasSubstr("class folder " + tmp.file("cls/b") + " holds no images"));

  write_image(tmp.file("mixed/a/1.png"), random_image(4, 4, 1));
  write_image(tmp.file("mixed/loose.png"), random_image(4, 4, 1));
  cfg.root = tmp.file("mixed");
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "train"); }), HasSubstr("mixes 1 image files"));

  write_image(tmp.file("sp/train/a/1.png"), random_image(4, 4, 1));
  write_image(tmp.file("sp/test/zebra/1.png"), random_image(4, 4, 1));
  cfg.root = tmp.file("sp");
  cfg.image_size = 4;
  msg = test::error_of([&] { load_dataset(cfg, "test"); });
  EXPECT_THAT(msg, HasSubstr(tmp.file("sp/test/zebra")));
  EXPECT_THAT(msg, HasSubstr("not among the classes of the train split"));
  cfg.test_split = "val";
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "test"); }), HasSubstr("has no val/ folder"));
  cfg.root = tmp.file("nowhere");
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "train"); }), HasSubstr(tmp.file("nowhere")));
}

// ---------------------------------------------------------------- cache

TEST(ImageCache, SecondLoadComesFromCacheAndCorruptCacheIsRebuilt) {
  test::TempDir tmp;
  std::vector<std::string> paths;
  for (int i = 0; i < 5; ++i) {
    paths.push_back(tmp.file("img/" + std::to_string(i) + ".png"));
    write_image(paths.back(), random_image(8, 12, 20 + i));
  }
  ImageDecodeOptions o;
  o.size = 8;
  o.cache_dir = tmp.file("cache");
  auto first = load_image_files(paths, o, "t");
  EXPECT_FALSE(first.from_cache);
  ASSERT_TRUE(fs::exists(first.cache_file));
  auto second = load_image_files(paths, o, "t");
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.cache_file, first.cache_file);
  EXPECT_TRUE(torch::equal(first.images, second.images));
  EXPECT_EQ(second.kept, first.kept);
  EXPECT_EQ(second.mean, first.mean);  // statistics travel with the cache
  EXPECT_EQ(second.std, first.std);
  std::vector<float> mean, stdev;
  compute_channel_stats(first.images, mean, stdev);
  EXPECT_EQ(first.mean, mean);
  EXPECT_EQ(first.std, stdev);

  // Flip one pixel byte in the middle of the cache: the CRC catches it.
  {
    std::fstream f(first.cache_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(fs::file_size(first.cache_file) / 2));
    char ch;
    f.read(&ch, 1);
    f.seekp(std::streamoff(fs::file_size(first.cache_file) / 2));
    ch = char(ch ^ 0x40);
    f.write(&ch, 1);
  }
  DecodedImages probe;
  std::string why;
  EXPECT_FALSE(read_image_cache(first.cache_file, image_cache_key(paths, o, "t"), 5, 3, 8, probe, &why));
  EXPECT_THAT(why, HasSubstr("checksum"));
  testing::internal::CaptureStderr();
  auto rebuilt = load_image_files(paths, o, "t");
  EXPECT_THAT(testing::internal::GetCapturedStderr(), HasSubstr("rebuilding"));
  EXPECT_FALSE(rebuilt.from_cache);
  EXPECT_TRUE(torch::equal(rebuilt.images, first.images));
  EXPECT_TRUE(load_image_files(paths, o, "t").from_cache);

  // A truncated cache is rebuilt too.
  fs::resize_file(first.cache_file, 100);
  EXPECT_FALSE(load_image_files(paths, o, "t").from_cache);

  // Other resize options, or a changed file, make another key.
  const auto key = image_cache_key(paths, o, "t");
  auto o2 = o;
  o2.resize = "pad";
  EXPECT_NE(image_cache_key(paths, o2, "t"), key);
  write_image(paths[2], random_image(8, 13, 99));
  EXPECT_NE(image_cache_key(paths, o, "t"), key);
  auto changed = load_image_files(paths, o, "t");
  EXPECT_FALSE(changed.from_cache);
  EXPECT_NE(changed.cache_file, first.cache_file);
  EXPECT_FALSE(torch::equal(changed.images[2], first.images[2]));

  // A missing file is named.
  paths.push_back(tmp.file("img/gone.png"));
  EXPECT_THAT(test::error_of([&] { load_image_files(paths, o, "t"); }), HasSubstr(tmp.file("img/gone.png")));
}

TEST(ImageCache, SkippedFilesAreRememberedByTheCache) {
  test::TempDir tmp;
  write_image(tmp.file("f/a.png"), random_image(4, 4, 1));
  test::write_bytes(tmp.file("f/b.png"), "junk");
  write_image(tmp.file("f/c.png"), random_image(4, 4, 3));
  auto cfg = data_config("folder", tmp.file("f"));
  cfg.image_size = 4;
  cfg.on_bad_image = "skip";
  cfg.cache_dir = tmp.file("cache");
  testing::internal::CaptureStderr();
  auto d1 = load_dataset(cfg, "train");
  auto d2 = load_dataset(cfg, "train");  // from the cache, still reports the skipped file
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(d2.size(), 2);
  EXPECT_TRUE(torch::equal(d1.all_images(), d2.all_images()));
  size_t reports = 0;
  for (size_t p = err.find(tmp.file("f/b.png")); p != std::string::npos; p = err.find(tmp.file("f/b.png"), p + 1))
    ++reports;
  EXPECT_EQ(reports, 2u);
  cfg.on_bad_image = "fail";  // the cached list of bad files fails the strict mode too
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "train"); }), HasSubstr(tmp.file("f/b.png")));
}

// ---------------------------------------------------------------- FGVC-Aircraft


TEST(Aircraft, CropsBannerAndUsesVariantOrder) {
  test::TempDir tmp;
  auto cfg = data_config("aircraft", write_aircraft(tmp, true));
  cfg.image_size = 8;
  cfg.resize = "stretch";
  auto d = load_dataset(cfg, "train");
  ASSERT_EQ(d.all_images().sizes(), (std::vector<int64_t>{2, 3, 8, 8}));
  // Only the white top 16 rows survive the banner crop.
  EXPECT_GE(d.all_images().min().item<int>(), 250);
  EXPECT_TRUE(torch::equal(d.labels, torch::tensor({0, 2}, torch::kInt64)));  // variants.txt order
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.name, "aircraft/train");
  auto t = load_dataset(cfg, "test");
  EXPECT_TRUE(torch::equal(t.labels, torch::tensor({2, 1}, torch::kInt64)));
  EXPECT_FLOAT_EQ(t.mean[0], 0.485f);
  // data.root may also be the data/ folder.
  cfg.root += "/data";
  EXPECT_EQ(load_dataset(cfg, "train").size(), 2);
}

TEST(Aircraft, SortedNamesWithoutVariantsFile) {
  test::TempDir tmp;
  auto cfg = data_config("aircraft", write_aircraft(tmp, false));
  cfg.image_size = 8;
  auto d = load_dataset(cfg, "test");
  // Sorted names over all split files: "A320" < "Boeing 747-400" < "F/A-18".
  EXPECT_TRUE(torch::equal(d.labels, torch::tensor({0, 2}, torch::kInt64)));
  EXPECT_EQ(d.num_classes, 3);
}

TEST(Aircraft, MissingSplitFileAndBadLines) {
  test::TempDir tmp;
  const auto root = write_aircraft(tmp, true);
  auto cfg = data_config("aircraft", root);
  cfg.image_size = 8;
  cfg.test_split = "val";
  auto msg = test::error_of([&] { load_dataset(cfg, "test"); });
  EXPECT_THAT(msg, HasSubstr(root + "/data/images_variant_val.txt"));
  EXPECT_THAT(msg, HasSubstr("does not exist"));
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "bogus"); }), HasSubstr("unknown split 'bogus'"));
  test::write_bytes(root + "/data/images_variant_train.txt", "0034309 A320\n0056978\n");
  msg = test::error_of([&] { load_dataset(cfg, "train"); });
  EXPECT_THAT(msg, HasSubstr("images_variant_train.txt:2"));
  test::write_bytes(root + "/data/images_variant_train.txt", "0034309 A380\n");
  msg = test::error_of([&] { load_dataset(cfg, "train"); });
  EXPECT_THAT(msg, HasSubstr("variant 'A380'"));
  EXPECT_THAT(msg, HasSubstr("variants.txt"));
  test::write_bytes(root + "/data/images_variant_train.txt", "9999999 A320\n");
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "train"); }), HasSubstr("images/9999999.jpg does not exist"));
}

// ---------------------------------------------------------------- R-HID

TEST(Rhid, SplitFoldersShareHotelLabels) {
  test::TempDir tmp;
  const auto root = tmp.file("rhid");
  write_image(root + "/train/1200/a.jpg", random_image(6, 6, 1));
  write_image(root + "/train/1200/b.png", random_image(6, 6, 2));
  write_image(root + "/train/3400/c.png", random_image(6, 6, 3));
  write_image(root + "/D_SS/3400/d.png", random_image(6, 6, 4));
  write_image(root + "/D_UU/7000/e.png", random_image(6, 6, 5));
  write_image(root + "/D_?\?/5100/f.png", random_image(6, 6, 6));
  auto cfg = data_config("rhid", root);
  cfg.image_size = 6;
  auto train = load_dataset(cfg, "train");
  EXPECT_EQ(train.num_classes, 4);  // 1200, 3400, 5100, 7000
  EXPECT_TRUE(torch::equal(train.labels, torch::tensor({0, 0, 1}, torch::kInt64)));
  EXPECT_FLOAT_EQ(train.mean[0], 0.4620f);
  cfg.test_split = "D_SS";
  auto ss = load_dataset(cfg, "test");
  EXPECT_EQ(ss.split, "test");
  EXPECT_EQ(ss.name, "rhid/D_SS");
  EXPECT_TRUE(torch::equal(ss.labels, torch::tensor({1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(ss.all_images()[0], random_image(6, 6, 4)));
  EXPECT_TRUE(torch::equal(load_dataset(cfg, "uu").labels, torch::tensor({3}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(load_dataset(cfg, "unknown").labels, torch::tensor({2}, torch::kInt64)));
  auto msg = test::error_of([&] { load_dataset(cfg, "D_SU"); });
  EXPECT_THAT(msg, HasSubstr(root + "/D_SU"));
  EXPECT_THAT(msg, HasSubstr("does not exist"));
  EXPECT_THAT(test::error_of([&] { load_dataset(cfg, "test_x"); }), HasSubstr("unknown split 'test_x'"));
}

// ---------------------------------------------------------------- config

TEST(DataConfigKeys, ParseAndRejectContradictions) {
  auto c = load_config("", {"data.name=folder", "data.image_size=64", "data.resize=pad", "data.on_bad_image=skip",
                            "data.cache_dir=/tmp/c", "data.channels=1", "data.test_split=val"});
  EXPECT_EQ(c.data.image_size, 64);
  EXPECT_EQ(c.data.resize, "pad");
  EXPECT_EQ(c.data.channels, 1);
  EXPECT_EQ(c.data.test_split, "val");
  EXPECT_THAT(test::error_of([] { load_config("", {"data.name=imagenet"}); }), HasSubstr("cifar10"));
  EXPECT_THAT(test::error_of([] { load_config("", {"data.name=cifar10", "data.image_size=64"}); }),
              HasSubstr("data.image_size only applies"));
  EXPECT_THAT(test::error_of([] { load_config("", {"data.resize=zoom"}); }), HasSubstr("stretch|center-crop|pad"));
  EXPECT_THAT(test::error_of([] { load_config("", {"data.name=aircraft", "data.channels=2"}); }),
              HasSubstr("data.channels"));
  EXPECT_THAT(test::error_of([] { load_config("", {"data.medmnist_flag=pathmnist"}); }),
              HasSubstr("data.medmnist_flag only applies"));
  // The run's config.yaml (to_yaml) loads back.
  test::TempDir tmp;
  test::write_bytes(tmp.file("c.yaml"), c.to_yaml());
  EXPECT_EQ(load_config(tmp.file("c.yaml"), {}).data.resize, "pad");
}

TEST(DataConfigKeys, EveryShippedConfigLoads) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(std::string(GPS_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream f(e.path());
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (text.find("\ngrid:") != std::string::npos)  // an experiment grid: every cell's config must load
      EXPECT_NO_THROW(expand_grid(load_experiment(e.path().string(), {}))) << e.path();
    else
      EXPECT_NO_THROW(load_config(e.path().string(), {})) << e.path();
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(ChannelStats, MatchDirectComputation) {
  torch::manual_seed(7);
  for (int64_t c : {1, 3}) {
    auto x = torch::randint(0, 256, {37, c, 5, 7}, torch::kInt64).to(torch::kUInt8);
    std::vector<float> mean, stdev;
    compute_channel_stats(x, mean, stdev);
    auto f = x.to(torch::kFloat64).div(255.0);
    auto m = f.mean({0, 2, 3}), s = f.std({0, 2, 3}, /*unbiased=*/false);
    ASSERT_EQ(mean.size(), size_t(c));
    for (int64_t i = 0; i < c; ++i) {
      EXPECT_NEAR(mean[i], m[i].item<double>(), 1e-6);
      EXPECT_NEAR(stdev[i], s[i].item<double>(), 1e-6);
    }
  }
}
