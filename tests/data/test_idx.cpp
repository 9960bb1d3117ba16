#include "gps/core/check.h"
#include "gps/data/idx.h"
#include "gps/data/registry.h"
#include "test_util.h"

#include <gtest/gtest.h>

using namespace gps;
using gps::test::idx_bytes;

namespace {

// Expects a gps::Error whose message contains every fragment.
template <typename F>
void expect_error(F&& f, std::vector<std::string> fragments) {
  try {
    f();
    FAIL() << "expected gps::Error";
  } catch (const gps::Error& e) {
    for (auto& frag : fragments) EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Idx, ReadsPlainAndGzipWithHeaderDims) {
  test::TempDir tmp;
  std::vector<uint8_t> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7);
  const auto bytes = idx_bytes({2, 3, 4}, data);
  test::write_bytes(tmp.file("a.idx"), bytes);
  test::write_gz(tmp.file("a.idx.gz"), bytes);
  for (auto name : {"a.idx", "a.idx.gz"}) {
    auto t = read_idx(tmp.file(name));
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(t.scalar_type(), torch::kUInt8);
    for (size_t i = 0; i < data.size(); ++i) EXPECT_EQ(t.flatten()[i].item<int>(), data[i]);
  }
}

TEST(Idx, RejectsTruncatedData) {
  test::TempDir tmp;
  auto bytes = idx_bytes({2, 3, 4}, std::vector<uint8_t>(23));
  test::write_bytes(tmp.file("t.idx"), bytes);
  expect_error([&] { read_idx(tmp.file("t.idx")); }, {tmp.file("t.idx"), "truncated", "24", "23"});
}

TEST(Idx, RejectsTrailingBytes) {
  test::TempDir tmp;
  test::write_bytes(tmp.file("t.idx"), idx_bytes({2, 2}, std::vector<uint8_t>(5)));
  expect_error([&] { read_idx(tmp.file("t.idx")); }, {"1 trailing bytes"});
}

TEST(Idx, RejectsBadMagicAndType) {
  std::string bad = idx_bytes({1}, {7});
  bad[0] = 1;
  expect_error([&] { parse_idx(bad, "x.idx"); }, {"x.idx", "bad IDX magic"});
  std::string f32 = idx_bytes({1}, {0, 0, 0, 0});
  f32[2] = 0x0D;
  expect_error([&] { parse_idx(f32, "y.idx"); }, {"y.idx", "0xd", "0x08"});
  expect_error([&] { parse_idx(std::string("\0\0", 2), "z.idx"); }, {"z.idx", "too short"});
  std::string header_cut = idx_bytes({3, 3}, {}).substr(0, 9);
  expect_error([&] { parse_idx(header_cut, "h.idx"); }, {"truncated IDX header"});
}

TEST(Idx, RejectsCorruptGzip) {
  test::TempDir tmp;
  std::string gz;
  {
    test::write_gz(tmp.file("g.gz"), idx_bytes({100}, std::vector<uint8_t>(100, 3)));
    std::ifstream f(tmp.file("g.gz"), std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(f), {});
  }
  test::write_bytes(tmp.file("cut.gz"), gz.substr(0, gz.size() / 2));
  expect_error([&] { read_idx(tmp.file("cut.gz")); }, {tmp.file("cut.gz"), "gzip"});
}

TEST(Idx, MissingFileNamesPath) {
  expect_error([] { read_idx("/nonexistent/file.idx"); }, {"/nonexistent/file.idx"});
}

TEST(Dataset, LoadsMnistLayoutAndChecksCounts) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 30, 20);
  DataConfig cfg;
  cfg.root = tmp.file("fm");
  auto d = load_dataset(cfg, "train");
  EXPECT_EQ(d.all_images().sizes(), (std::vector<int64_t>{30, 1, 8, 8}));
  EXPECT_EQ(d.labels.size(0), 30);
  EXPECT_EQ(d.num_classes, 10);
  // Labels file with a different count.
  test::write_gz(tmp.file("fm/t10k-labels-idx1-ubyte.gz"), idx_bytes({19}, std::vector<uint8_t>(19)));
  expect_error([&] { load_dataset(cfg, "test"); }, {"20 images", "19 labels"});
  cfg.root = tmp.file("nope");
  expect_error([&] { load_dataset(cfg, "train"); }, {"data.root", tmp.file("nope")});
}

TEST(Dataset, LabelOutOfRangeRejected) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 10, 10);
  test::write_gz(tmp.file("fm/train-labels-idx1-ubyte.gz"), idx_bytes({10}, std::vector<uint8_t>(10, 12)));
  DataConfig cfg;
  cfg.root = tmp.file("fm");
  expect_error([&] { load_dataset(cfg, "train"); }, {"label 12 out of range"});
}

TEST(Dataset, StratifiedSubsetKeepsClassShares) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 200, 10);
  DataConfig cfg;
  cfg.root = tmp.file("fm");
  cfg.subset = 50;
  auto d = load_dataset(cfg, "train");
  ASSERT_EQ(d.size(), 50);
  auto counts = torch::bincount(d.labels, {}, 10);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c].item<int64_t>(), 5);
  // Deterministic for a seed, different for another.
  auto again = load_dataset(cfg, "train");
  EXPECT_TRUE(torch::equal(d.all_images(), again.all_images()));
  cfg.seed = 1;
  EXPECT_FALSE(torch::equal(d.all_images(), load_dataset(cfg, "train").all_images()));
}
