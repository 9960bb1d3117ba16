// A full disk while gps writes each of its artefacts: the neighbour table,
// the prior-embeddings cache, the image cache and the exports (the .npz of
// the weights and the TorchScript backbone). The disk fills as RLIMIT_FSIZE
// makes it (SIGXFSZ ignored, a write past the limit fails with EFBIG), in
// this process only. Each write must fail with gps::Error naming the file,
// leave no temporary behind and leave what was there before untouched; with
// room again the same call must succeed. The checkpoint case, with the run
// that resumes after it, is Lifecycle.AFullDiskAtACheckpoint* in
// tests/train/test_resume.cpp.
#include "test_util.h"

#include "gps/data/image_cache.h"
#include "gps/io/npz.h"
#include "gps/models/export.h"
#include "gps/models/backbone.h"
#include "gps/neighbors/neighbor_table.h"
#include "gps/prior/embedding_cache.h"
#include "gps/prior/pixel_prior.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <set>
#include <string>

namespace {

using gps::test::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr rlim_t kRoom = 64 * 1024;  // every artefact below is several times larger

// Every file under `dir`, relative, with its size: what a failed write may
// not change.
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      out.insert(fs::relative(e.path(), dir).string() + " " + std::to_string(e.file_size()));
  return out;
}

gps::Dataset random_dataset(int64_t n, int64_t side) {
  torch::manual_seed(5);
  gps::Dataset d;
  d.name = "rand";
  d.set_images(torch::randint(0, 255, {n, 1, side, side}, torch::kUInt8));
  d.mean = {0.5f};
  d.std = {0.25f};
  return d;
}

TEST(FullDisk, TheNeighbourTableFailsNamingItsFileAndIsNeverHalfUsed) {
  TempDir tmp;
  const std::string dir = tmp.file("table");
  const auto table = gps::build_table(torch::randn({4000, 8}), 16, true, "l2");  // ids alone: 512 KB
  std::string msg;
  {
    gps::test::FileSizeLimit full(kRoom);
    msg = gps::test::error_of([&] { gps::save_table(dir, table, "fp"); });
  }
  EXPECT_THAT(msg, HasSubstr("cannot write " + dir + "/ids.npy"));
  EXPECT_EQ(listing(dir), std::set<std::string>{}) << "no temporary, no partial table";
  gps::NeighborTable back;
  EXPECT_FALSE(gps::load_table(dir, "fp", back)) << "nothing half written is taken for a table";
  gps::save_table(dir, table, "fp");
  ASSERT_TRUE(gps::load_table(dir, "fp", back));
  EXPECT_TRUE(torch::equal(back.ids, table.ids));
  EXPECT_TRUE(torch::equal(back.dists, table.dists));
}

TEST(FullDisk, ThePriorEmbeddingsCacheFailsNamingItsFileAndIsRecomputedLater) {
  TempDir tmp;
  const gps::Dataset d = random_dataset(2000, 16);  // 2000 x 256 float32: 2 MB
  gps::CachedPrior cached(std::make_unique<gps::PixelPrior>(), tmp.file("cache"));
  std::string msg;
  {
    gps::test::FileSizeLimit full(kRoom);
    msg = gps::test::error_of([&] { cached.embed(d); });
  }
  EXPECT_THAT(msg, HasSubstr("cannot write " + cached.npy_path(d)));
  EXPECT_EQ(listing(tmp.file("cache")), std::set<std::string>{});
  const auto e = cached.embed(d);
  EXPECT_TRUE(torch::equal(e, gps::PixelPrior().embed(d)));
  EXPECT_TRUE(fs::exists(fs::path(cached.npy_path(d)).replace_extension(".json"))) << "saved with room again";
  EXPECT_TRUE(torch::equal(cached.embed(d), e));
}

TEST(FullDisk, TheImageCacheFailsNamingItsFileAndKeepsTheOldOne) {
  TempDir tmp;
  const std::string file = tmp.file("cache/images-1.bin");
  gps::DecodedImages small, big;
  small.images = torch::full({2, 3, 4, 4}, 7, torch::kUInt8);
  small.kept = {0, 1};
  small.mean = small.std = {0.1f, 0.2f, 0.3f};
  big.images = torch::randint(0, 255, {500, 3, 32, 32}, torch::kUInt8);  // 1.5 MB
  for (int64_t i = 0; i < 500; ++i) big.kept.push_back(i);
  big.mean = big.std = {0.4f, 0.5f, 0.6f};
  gps::write_image_cache(file, 1, 2, small);
  const auto before = listing(tmp.file("cache"));
  std::string msg;
  {
    gps::test::FileSizeLimit full(kRoom);
    msg = gps::test::error_of([&] { gps::write_image_cache(file, 1, 500, big); });
  }
  EXPECT_THAT(msg, HasSubstr("cannot write " + file));
  EXPECT_EQ(listing(tmp.file("cache")), before) << "the old cache as it was, no temporary";
  gps::DecodedImages back;
  std::string why;
  EXPECT_TRUE(gps::read_image_cache(file, 1, 2, 3, 4, back, &why)) << why;
  gps::write_image_cache(file, 1, 500, big);
  ASSERT_TRUE(gps::read_image_cache(file, 1, 500, 3, 32, back, &why)) << why;
  EXPECT_TRUE(torch::equal(back.images, big.images));
}

TEST(FullDisk, TheExportsFailNamingTheirFilesAndKeepTheOldOnes) {
  TempDir tmp;
  gps::ModelConfig m;
  m.width = 16;  // about 700k parameters: 2.8 MB
  torch::manual_seed(1);
  auto net = gps::make_backbone(m, 1);
  const std::string npz = tmp.file("export/backbone.npz"), pt = tmp.file("export/backbone.pt");
  fs::create_directories(tmp.file("export"));
  gps::test::write_bytes(npz, "the old npz");
  gps::test::write_bytes(pt, "the old pt");
  const auto before = listing(tmp.file("export"));
  std::string npz_msg, pt_msg;
  {
    gps::test::FileSizeLimit full(kRoom);
    npz_msg = gps::test::error_of([&] { gps::save_npz(npz, gps::backbone_state(net)); });
    pt_msg = gps::test::error_of([&] { gps::save_backbone_torchscript(net, m, 1, pt); });
  }
  EXPECT_THAT(npz_msg, HasSubstr("cannot write " + npz));
  EXPECT_THAT(pt_msg, HasSubstr(pt));
  EXPECT_EQ(listing(tmp.file("export")), before) << "the old exports as they were, no temporary";
  EXPECT_EQ(gps::test::read_bytes(npz), "the old npz");
  gps::save_npz(npz, gps::backbone_state(net));
  gps::save_backbone_torchscript(net, m, 1, pt);
  const auto back = gps::load_npz(npz);
  EXPECT_TRUE(torch::equal(back.at("conv1.weight"), net->named_parameters()["conv1.weight"]));
  EXPECT_NO_THROW(torch::jit::load(pt));
}

}  // namespace
