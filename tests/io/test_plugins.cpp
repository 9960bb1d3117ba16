// The OpenCV plugins (gps/io/plugins.h) and PNG writing through libpng:
// PNGs read back exactly, the plugins are found next to the binary, and a
// gps without them names what is missing and where it looked.
#include "gps/core/check.h"
#include "gps/io/image.h"
#include "gps/io/plugins.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

using namespace gps;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

// [C, H, W] uint8 of what OpenCV's own decoder reads from `path`, in RGB.
torch::Tensor read_with_opencv(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  EXPECT_FALSE(m.empty()) << path;
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  auto t = torch::from_blob(m.data, {m.rows, m.cols, m.channels()}, torch::kUInt8).clone();
  return t.permute({2, 0, 1}).contiguous();
}

TEST(Png, SavedImagesReadBackExactly) {
  test::TempDir tmp;
  torch::manual_seed(0);
  const auto rgb = torch::randint(0, 256, {3, 5, 7}, torch::kUInt8);
  const auto gray = torch::randint(0, 256, {1, 4, 9}, torch::kUInt8);
  save_png(tmp.file("rgb.png"), rgb);
  save_png(tmp.file("gray.png"), gray);
  EXPECT_TRUE(torch::equal(read_with_opencv(tmp.file("rgb.png")), rgb)) << "channel order or values changed";
  EXPECT_TRUE(torch::equal(read_with_opencv(tmp.file("gray.png")), gray));
  // A strided view is written as its values.
  save_png(tmp.file("view.png"), rgb.flip({2}));
  EXPECT_TRUE(torch::equal(read_with_opencv(tmp.file("view.png")), rgb.flip({2})));
  EXPECT_THAT(test::error_of([&] { save_png(tmp.file("x.png"), torch::zeros({2, 3, 3}, torch::kUInt8)); }),
              HasSubstr("1 or 3 channels"));
}

TEST(Plugins, DecodeImagesThroughThePluginNextToTheBinary) {
  EXPECT_THAT(plugins::location("imgcodecs"), ::testing::EndsWith("libgps_imgcodecs.so"));
  EXPECT_THAT(plugins::location("onnx"), ::testing::EndsWith("libgps_onnx.so"));
  EXPECT_EQ(plugins::location("no-such-plugin"), "");
  test::TempDir tmp;
  const auto rgb = torch::randint(0, 256, {3, 4, 6}, torch::kUInt8);
  save_png(tmp.file("a.png"), rgb);
  std::string why;
  cv::Mat m = plugins::imread(tmp.file("a.png"), cv::IMREAD_COLOR, &why);
  ASSERT_FALSE(m.empty()) << why;
  EXPECT_EQ(m.rows, 4);
  EXPECT_EQ(m.cols, 6);
  test::write_bytes(tmp.file("bad.png"), "not a png");
  EXPECT_TRUE(plugins::imread(tmp.file("bad.png"), cv::IMREAD_COLOR, &why).empty());
  EXPECT_THAT(why, HasSubstr("cannot decode"));
}

// A gps binary alone in a folder (as in the GPU bundle) has no plugins: it
// trains on everything else, and an image folder fails naming the plugin.
TEST(Plugins, AGpsWithoutThemNamesWhatIsMissing) {
  test::TempDir tmp;
  fs::create_directories(tmp.file("bin"));
  fs::copy_file(std::string(GPS_BINARY_DIR) + "/gps", tmp.file("bin/gps"));
  fs::create_directories(tmp.file("imgs/c0"));
  fs::create_directories(tmp.file("imgs/c1"));
  for (int i = 0; i < 4; ++i)
    save_png(tmp.file("imgs/c" + std::to_string(i % 2) + "/" + std::to_string(i) + ".png"),
             torch::randint(0, 256, {3, 8, 8}, torch::kUInt8));
  const std::string gps = tmp.file("bin/gps");
  auto run = [&](const std::string& env, const std::string& args) {
    const std::string cmd = env + " " + gps + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    return std::make_pair(WEXITSTATUS(pclose(p)), out);
  };
  auto [code, out] = run("", "info");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("imgcodecs missing"));
  const std::string embed = "embed data.name=folder data.root=" + tmp.file("imgs") + " data.image_size=8 data.cache_dir=" +
                            tmp.file("cache") + " --split train -o " + tmp.file("e.npy");
  std::tie(code, out) = run("", embed);
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, HasSubstr("libgps_imgcodecs.so"));
  EXPECT_THAT(out, HasSubstr("GPS_PLUGIN_DIR"));
  EXPECT_FALSE(fs::exists(tmp.file("e.npy")));
  std::tie(code, out) = run("GPS_PLUGIN_DIR=" + std::string(GPS_BINARY_DIR), embed);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(fs::exists(tmp.file("e.npy")));
}

}  // namespace
