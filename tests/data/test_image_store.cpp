// Image stores (gps data pack): every reader packs to both payloads and reads
// back exactly (raw) or as OpenCV's JPEG round trip (jpeg); training from a
// store gives the weights of training from memory; a flipped byte is named;
// a killed pack is never read and resumes; ranks read only their rows.
#include "gps/augment/augment.h"
#include "gps/data/image_store.h"
#include "gps/data/registry.h"
#include "gps/data/store_pack.h"
#include "gps/io/npz.h"
#include "gps/sampling/epoch_order.h"
#include "gps/train/batch_source.h"
#include "gps/train/trainer.h"
#include "data_fixtures.h"
#include "test_spawn.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <sys/wait.h>

#include <fstream>
#include <mutex>
#include <set>

using namespace gps;
using namespace gps::fixtures;
using ::testing::HasSubstr;

namespace {

// One config per reader, each on tiny files in its real format.
std::vector<std::pair<std::string, DataConfig>> every_reader(const test::TempDir& tmp) {
  std::vector<std::pair<std::string, DataConfig>> out;
  test::write_tiny_mnist(tmp.file("fm"), 30, 10);
  out.push_back({"fashion-mnist", data_config("fashion-mnist", tmp.file("fm"))});
  out.push_back({"cifar10", data_config("cifar10", write_cifar10(tmp))});
  save_npz(tmp.file("pathmnist.npz"), medmnist_rgb_arrays());
  out.push_back({"medmnist", data_config("medmnist", tmp.file("pathmnist.npz"))});
  for (int i = 0; i < 6; ++i)
    write_image(tmp.file("folder/train/" + std::string(i % 2 ? "cat" : "dog") + "/" + std::to_string(i) + ".png"),
                random_image(9, 12, i));
  auto folder = data_config("folder", tmp.file("folder"));
  folder.image_size = 8;
  out.push_back({"folder", folder});
  auto aircraft = data_config("aircraft", write_aircraft(tmp, true));
  aircraft.image_size = 16;
  out.push_back({"aircraft", aircraft});
  write_image(tmp.file("rhid/train/1200/a.jpg"), random_image(6, 6, 1));
  write_image(tmp.file("rhid/train/3400/c.png"), random_image(6, 6, 3));
  auto rhid = data_config("rhid", tmp.file("rhid"));
  rhid.image_size = 6;
  out.push_back({"rhid", rhid});
  return out;
}

// What OpenCV's JPEG round trip at `quality` makes of one [C, H, W] image.
torch::Tensor opencv_jpeg_round_trip(const torch::Tensor& chw, int quality) {
  const int C = int(chw.size(0));
  auto hwc = chw.permute({1, 2, 0}).contiguous();
  cv::Mat m(int(chw.size(1)), int(chw.size(2)), C == 3 ? CV_8UC3 : CV_8UC1, hwc.data_ptr<uint8_t>());
  auto swap_rb = [C](const cv::Mat& in) {  // RGB <-> BGR
    if (C == 1) return in.clone();
    std::vector<cv::Mat> ch;
    cv::split(in, ch);
    std::swap(ch[0], ch[2]);
    cv::Mat out;
    cv::merge(ch, out);
    return out;
  };
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(".jpg", swap_rb(m), bytes, {cv::IMWRITE_JPEG_QUALITY, quality}));
  cv::Mat back = swap_rb(cv::imdecode(bytes, C == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE));
  return torch::from_blob(back.data, {back.rows, back.cols, C}, torch::kUInt8).permute({2, 0, 1}).clone();
}

// An ImageSource that records every row read from it.
class RecordingSource final : public ImageSource {
 public:
  explicit RecordingSource(ImageSourcePtr inner) : inner_(std::move(inner)) {}
  int64_t size() const override { return inner_->size(); }
  std::array<int64_t, 3> shape() const override { return inner_->shape(); }
  torch::Tensor fetch(const torch::Tensor& index) const override {
    std::lock_guard<std::mutex> lock(mu_);
    for (int64_t i = 0; i < index.size(0); ++i) rows_.insert(index[i].item<int64_t>());
    return inner_->fetch(index);
  }
  uint32_t content_crc() const override { return inner_->content_crc(); }
  std::string describe() const override { return "recording " + inner_->describe(); }
  std::set<int64_t> rows() const { return rows_; }

 private:
  ImageSourcePtr inner_;
  mutable std::mutex mu_;
  mutable std::set<int64_t> rows_;
};

}  // namespace

TEST(ImageStore, EveryReaderPacksToBothPayloads) {
  test::TempDir tmp;
  for (const auto& [reader, cfg] : every_reader(tmp)) {
    SCOPED_TRACE(reader);
    const Dataset d = load_dataset(cfg, "train");
    PackOptions o;
    o.chunk_rows = 4;  // several chunks, the last one short
    pack_store(d, tmp.file(reader + "-raw/train.store"), o);
    const Dataset raw = store_dataset(tmp.file(reader + "-raw/train.store"));
    EXPECT_TRUE(torch::equal(raw.all_images(), d.all_images()));
    const auto some = torch::tensor({1, 0, 1}, torch::kInt64);  // any order, repeats
    EXPECT_TRUE(torch::equal(raw.fetch(some), d.all_images().index_select(0, some)));
    EXPECT_TRUE(torch::equal(raw.labels, d.labels));
    EXPECT_EQ(raw.num_classes, d.num_classes);
    EXPECT_EQ(raw.mean, d.mean);
    EXPECT_EQ(raw.std, d.std);
    EXPECT_EQ(raw.name, d.name);
    EXPECT_EQ(fingerprint(raw), fingerprint(d)) << "same pixels, same caches";

    o.payload = "jpeg";
    o.quality = 90;
    pack_store(d, tmp.file(reader + "-jpeg/train.store"), o);
    const Dataset jpeg = store_dataset(tmp.file(reader + "-jpeg/train.store"));
    ASSERT_EQ(jpeg.all_images().sizes(), d.all_images().sizes());
    for (int64_t i = 0; i < d.size(); ++i)
      ASSERT_TRUE(torch::equal(jpeg.all_images()[i], opencv_jpeg_round_trip(d.all_images()[i], 90))) << "row " << i;
    EXPECT_TRUE(torch::equal(jpeg.labels, d.labels));
    EXPECT_EQ(jpeg.mean, d.mean);
  }
}

// A folder larger than memory: `gps data pack` decodes image files a block at
// a time (data.decode_on_read), with the statistics and the bad-file policy
// of the in-memory reader, to the last bit.
TEST(ImageStore, ImageFilesArePackedWithoutHoldingThemAll) {
  test::TempDir tmp;
  for (int i = 0; i < 7; ++i)
    write_image(tmp.file("f/train/" + std::string(i % 2 ? "cat" : "dog") + "/" + std::to_string(i) + ".png"),
                random_image(10, 14, i));
  for (int i = 0; i < 3; ++i) write_image(tmp.file("f/test/dog/t" + std::to_string(i) + ".png"), random_image(9, 9, 20 + i));
  test::write_bytes(tmp.file("f/train/cat/broken.png"), "not a png");
  auto cfg = data_config("folder", tmp.file("f"));
  cfg.image_size = 8;
  cfg.on_bad_image = "skip";
  auto lazy = cfg;
  lazy.decode_on_read = true;
  for (const std::string split : {"train", "test"}) {
    const Dataset mem = load_dataset(cfg, split), streamed = load_dataset(lazy, split);
    EXPECT_FALSE(streamed.pixels->memory().defined());
    EXPECT_EQ(streamed.size(), split == "train" ? 7 : 3);
    EXPECT_TRUE(torch::equal(streamed.all_images(), mem.all_images())) << split;
    EXPECT_TRUE(torch::equal(streamed.labels, mem.labels));
    EXPECT_EQ(streamed.mean, mem.mean) << "the test split keeps the train split's statistics";
    EXPECT_EQ(streamed.std, mem.std);
  }
  const auto r = test::run_gps("data pack data.name=folder data.root=" + tmp.file("f") +
                               " data.image_size=8 data.on_bad_image=skip --payload jpeg --out " + tmp.file("st"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("train.store: 7 images [3, 8, 8] of folder/train, jpeg payload"));
  EXPECT_THAT(r.output, HasSubstr("broken.png"));
  EXPECT_TRUE(torch::equal(store_dataset(tmp.file("st/train.store")).labels, load_dataset(cfg, "train").labels));
}

// --max-side: JPEG files stored larger than data.image_size, resized by
// data.resize when read; close to the direct decode, deterministic.
TEST(ImageStore, AShuffledPackKeepsEveryImageWithItsLabel) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 50, 10);
  const Dataset d = load_dataset(data_config("fashion-mnist", tmp.file("fm")), "train");
  PackOptions o;
  o.chunk_rows = 16;
  o.shuffle_seed = 3;
  pack_store(d, tmp.file("st/train.store"), o);
  const Dataset s = store_dataset(tmp.file("st/train.store"));
  const auto a = d.all_images().reshape({50, -1}), b = s.all_images().reshape({50, -1});
  std::set<int64_t> used;
  int64_t moved = 0;
  for (int64_t i = 0; i < 50; ++i) {
    int64_t j = 0;
    while (j < 50 && !torch::equal(b[i], a[j])) ++j;
    ASSERT_LT(j, 50) << "store row " << i << " is an image of the dataset";
    EXPECT_EQ(s.labels[i].item<int64_t>(), d.labels[j].item<int64_t>());
    used.insert(j);
    moved += i != j;
  }
  EXPECT_EQ(used.size(), 50u) << "every image once";
  EXPECT_GT(moved, 40);
}

TEST(ImageStore, JpegWithMaxSideIsResizedWhenRead) {
  test::TempDir tmp;
  for (int i = 0; i < 4; ++i) {
    // Smooth gradients (JPEG keeps them; values 0..232), 48 x 64, wider than tall.
    auto y = torch::arange(48).view({1, 48, 1}).expand({3, 48, 64}), x = torch::arange(64).view({1, 1, 64}).expand({3, 48, 64});
    auto c = torch::arange(3).view({3, 1, 1});
    write_image(tmp.file("f/train/a/" + std::to_string(i) + ".png"), (y * 2 + x + c * 30 + i * 5).to(torch::kUInt8));
  }
  auto cfg = data_config("folder", tmp.file("f"));
  cfg.image_size = 16;
  cfg.decode_on_read = true;
  const Dataset d = load_dataset(cfg, "train");
  PackOptions o;
  o.payload = "jpeg";
  o.max_side = 32;
  pack_store(d, tmp.file("big/train.store"), o);
  o.max_side = 0;
  pack_store(d, tmp.file("small/train.store"), o);
  const auto big = open_store(tmp.file("big/train.store"));
  EXPECT_EQ(big->header().resize, "center-crop");
  EXPECT_EQ(big->header().max_side, 32);
  EXPECT_GT(big->chunks()[0].bytes, open_store(tmp.file("small/train.store"))->chunks()[0].bytes);
  const auto rows = big->range(0, 4);
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(rows, big->range(0, 4)));
  const auto diff = (rows.to(torch::kFloat) - d.all_images().to(torch::kFloat)).abs();
  EXPECT_LT(diff.mean().item<double>(), 2.0) << "a 32-px JPEG resized to 16 is close to the direct decode";
  EXPECT_LT(diff.max().item<double>(), 12.0);
  o.max_side = 8;
  o.payload = "jpeg";
  EXPECT_THAT(test::error_of([&] { pack_store(d, tmp.file("x/train.store"), o); }), HasSubstr("--max-side 8 is smaller"));
  o.max_side = 32;
  o.payload = "raw";
  EXPECT_THAT(test::error_of([&] { pack_store(d, tmp.file("x/train.store"), o); }),
              HasSubstr("--max-side applies to --payload jpeg"));
}

TEST(ImageStore, DataNameStoreLoadsSplitsAndSubsets) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  const auto r = test::run_gps("data pack data.root=" + tmp.file("fm") + " --out " + tmp.file("st") +
                               " --chunk-rows 16");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("train.store: 60 images [1, 8, 8] of fashion-mnist/train, raw payload, 4 chunks"));
  DataConfig mem = data_config("fashion-mnist", tmp.file("fm"));
  DataConfig st = data_config("store", tmp.file("st"));
  for (auto* c : {&mem, &st}) c->subset = 30, c->test_subset = 10;
  const Dataset a = load_dataset(mem, "train"), b = load_dataset(st, "train");
  EXPECT_EQ(b.split, "train");
  EXPECT_TRUE(torch::equal(a.all_images(), b.all_images()));
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
  EXPECT_TRUE(torch::equal(a.source_index, b.source_index));
  EXPECT_EQ(b.pixels->chunk_rows(), 8) << "a half-size subset keeps about half of each chunk";
  EXPECT_TRUE(torch::equal(load_dataset(mem, "test").all_images(), load_dataset(st, "test").all_images()));
  EXPECT_THAT(test::error_of([&] { load_dataset(st, "val"); }), HasSubstr(tmp.file("st/val.store") + " does not exist"));
  EXPECT_THAT(test::run_gps("data verify " + tmp.file("st")).output, HasSubstr("train.store: ok, 4 chunks"));
}

TEST(ImageStore, TrainingFromAStoreIsBitIdenticalToMemory) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 20);
  Config mem = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
  mem.eval.enabled = false;
  mem.neighbors.rules.k = 4;
  mem.train.name = "memory";
  const Dataset d = load_dataset(mem.data, "train");
  PackOptions o;
  o.chunk_rows = 32;
  pack_store(d, tmp.file("raw/train.store"), o);
  o.payload = "jpeg";
  pack_store(d, tmp.file("jpeg/train.store"), o);
  // The documented decode of the JPEG store, held as a raw store.
  Dataset decoded = store_dataset(tmp.file("jpeg/train.store"));
  decoded.set_images(decoded.all_images().clone());
  pack_store(decoded, tmp.file("decoded/train.store"), PackOptions{});

  auto from = [&](const std::string& name, const std::string& order) {
    Config c = mem;
    c.data.name = "store";
    c.data.root = tmp.file(name);
    c.data.order = order;
    c.train.name = name + "-" + order;
    return c;
  };
  const auto w_mem = test::weights_of(mem, train(mem, "test").run_dir);
  EXPECT_TRUE(test::bit_identical(w_mem, test::weights_of(mem, train(from("raw", "random"), "test").run_dir)));
  const auto w_jpeg = test::weights_of(mem, train(from("jpeg", "random"), "test").run_dir);
  EXPECT_TRUE(test::bit_identical(w_jpeg, test::weights_of(mem, train(from("decoded", "random"), "test").run_dir)));
  EXPECT_FALSE(test::bit_identical(w_mem, w_jpeg)) << "JPEG is lossy";
  // quasi-random over the store's chunks of 32 rows is another order.
  const auto w_quasi = test::weights_of(mem, train(from("raw", "quasi-random"), "test").run_dir);
  EXPECT_FALSE(test::bit_identical(w_mem, w_quasi));
}

TEST(ImageStore, AFlippedByteIsNamedWithItsChunk) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 100, 20);
  const DataConfig cfg = data_config("fashion-mnist", tmp.file("fm"));
  PackOptions o;
  o.chunk_rows = 25;
  const std::string path = tmp.file("st/train.store");
  pack_store(load_dataset(cfg, "train"), path, o);
  const auto chunk1 = open_store(path)->chunks()[1];
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(chunk1.offset + 100);
    char c = 0;
    f.read(&c, 1);
    c = char(c ^ 0x10);
    f.seekp(chunk1.offset + 100);
    f.write(&c, 1);
  }
  const ImageStorePtr s = open_store(path);  // page 0 and the tables are intact
  EXPECT_EQ(s->fetch(torch::tensor({0, 24, 60}, torch::kInt64)).size(0), 3);
  const std::string msg = test::error_of([&] { s->fetch(torch::tensor({10, 30}, torch::kInt64)); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr(str_cat("chunk 1 (bytes ", chunk1.offset, "..", chunk1.offset + chunk1.bytes, ")")));
  EXPECT_THAT(msg, HasSubstr("fails its CRC-32 check"));
  const auto report = verify_store(path, false);
  ASSERT_EQ(report.damaged.size(), 1u);
  EXPECT_THAT(report.damaged[0], HasSubstr("chunk 1 "));
  const auto r = test::run_gps("data verify " + path);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("DAMAGED, 1 of 4 chunks"));
  // A run stops before a step trains on the chunk.
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.data.name = "store";
  c.data.root = tmp.file("st");
  c.gps = false;
  c.eval.enabled = false;
  EXPECT_THAT(test::error_of([&] { train(c, "test"); }), HasSubstr("chunk 1 (bytes "));
  // A damaged header or table is named when the store is opened.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.write("#", 1);
  }
  EXPECT_THAT(test::error_of([&] { open_store(path); }), HasSubstr("header fails its CRC-32 check"));
}

TEST(ImageStore, AKilledPackIsNeverReadAndResumes) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 200, 20);
  const std::string args = "data pack data.root=" + tmp.file("fm") + " --splits train --payload jpeg --chunk-rows 20";
  const pid_t pid = test::spawn_with_env(
      {std::string(GPS_BINARY_DIR) + "/gps", "data", "pack", "data.root=" + tmp.file("fm"), "--splits", "train",
       "--payload", "jpeg", "--chunk-rows", "20", "--out", tmp.file("st")},
      {"GPS_PACK_KILL_AFTER_CHUNKS=3"}, tmp.file("log"));
  ASSERT_GT(pid, 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << test::read_bytes(tmp.file("log"));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("st/train.store")));
  EXPECT_TRUE(std::filesystem::exists(tmp.file("st/train.store.partial")));
  EXPECT_THAT(test::error_of([&] { load_dataset(data_config("store", tmp.file("st")), "train"); }),
              HasSubstr("train.store.partial is an unfinished pack"));
  const auto resumed = test::run_gps(args + " --out " + tmp.file("st"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resumed: 3 chunks from a killed pack"));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("st/train.store.partial")));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("st/train.store.partial.progress")));
  ASSERT_EQ(test::run_gps(args + " --out " + tmp.file("once")).code, 0);
  EXPECT_EQ(test::read_bytes(tmp.file("st/train.store")), test::read_bytes(tmp.file("once/train.store")))
      << "a resumed pack writes the bytes of an uninterrupted one";
  // A log of other options is not resumed: the pack starts over.
  ASSERT_EQ(test::run_gps(args + " --out " + tmp.file("st")).code, 0);
}

TEST(ImageStore, TwoRanksReadOnlyTheirOwnRows) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 120, 20);
  Dataset d = load_dataset(data_config("fashion-mnist", tmp.file("fm")), "train");
  PackOptions o;
  o.chunk_rows = 16;
  pack_store(d, tmp.file("st/train.store"), o);
  const Dataset store = store_dataset(tmp.file("st/train.store"));
  // A table whose neighbours are the next rows, so positives differ from anchors.
  NeighborTable t = self_table(120);
  t.ids = torch::stack({torch::arange(120, torch::kInt64), (torch::arange(120, torch::kInt64) + 1) % 120}, 1);
  t.dists = torch::zeros({120, 2});
  t.counts = torch::full({120}, 2, torch::kInt64);
  const PairSampler sampler(t, 20, 5, EpochOrder{"quasi-random", 16, 2});
  const auto augment = make_augmentation(AugmentConfig{}, store.mean, store.std);
  std::vector<std::set<int64_t>> read(2), own(2);
  for (int rank = 0; rank < 2; ++rank) {
    Dataset mine = store;
    auto rec = std::make_shared<RecordingSource>(store.pixels);
    mine.pixels = rec;
    const BatchSource src(sampler, *augment, mine, 9, true, rank, 2, torch::kCPU, false);
    const auto order = sampler.epoch_order(0);
    for (int64_t b = 0; b < sampler.batches_per_epoch(); ++b) {
      src.host(0, order, b);
      const PairBatch p = shard(sampler.batch(0, order, b), rank, 2);
      for (int64_t i = 0; i < p.anchors.size(0); ++i) {
        own[size_t(rank)].insert(p.anchors[i].item<int64_t>());
        own[size_t(rank)].insert(p.positives[i].item<int64_t>());
      }
    }
    read[size_t(rank)] = rec->rows();
    EXPECT_EQ(read[size_t(rank)], own[size_t(rank)]) << "rank " << rank << " reads its pairs' rows, no more";
  }
  std::set<int64_t> anchors0, anchors1;
  const auto order = sampler.epoch_order(0);
  for (int64_t b = 0; b < sampler.batches_per_epoch(); ++b) {
    for (auto v : shard(sampler.batch(0, order, b), 0, 2).anchors.unbind()) anchors0.insert(v.item<int64_t>());
    for (auto v : shard(sampler.batch(0, order, b), 1, 2).anchors.unbind()) anchors1.insert(v.item<int64_t>());
  }
  std::vector<int64_t> both;
  std::set_intersection(anchors0.begin(), anchors0.end(), anchors1.begin(), anchors1.end(), std::back_inserter(both));
  EXPECT_TRUE(both.empty()) << "the ranks' anchors are disjoint";
  EXPECT_EQ(anchors0.size() + anchors1.size(), 120u);
}

TEST(EpochOrder, QuasiRandomShufflesChunksAndRowsWithinWindows) {
  const int64_t n = 1000, R = 64, W = 3;
  const auto order = make_epoch_order(n, EpochOrder{"quasi-random", R, W}, 7, 1, 0);
  EXPECT_TRUE(torch::equal(std::get<0>(order.sort()), torch::arange(n, torch::kInt64))) << "a permutation";
  // Every run of W chunks' rows in the order comes from W chunks.
  const auto* p = order.data_ptr<int64_t>();
  int64_t at = 0, windows = 0;
  while (at < n) {
    std::set<int64_t> chunks;
    int64_t rows = 0;
    for (; at < n && (int64_t(chunks.size()) < W || chunks.count(p[at] / R)); ++at, ++rows) chunks.insert(p[at] / R);
    EXPECT_LE(int64_t(chunks.size()), W);
    ++windows;
  }
  EXPECT_EQ(windows, (n / R + 1 + W - 1) / W);
  EXPECT_FALSE(torch::equal(order, make_epoch_order(n, EpochOrder{"quasi-random", R, W}, 7, 1, 1)));
  EXPECT_TRUE(torch::equal(order, make_epoch_order(n, EpochOrder{"quasi-random", R, W}, 7, 1, 0)));
  EXPECT_THAT(test::error_of([] { make_epoch_order(10, EpochOrder{"sorted", 0, 1}, 0, 0, 0); }),
              HasSubstr("data.order: 'sorted'"));
}
