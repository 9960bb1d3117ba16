// Knowing what ran: `gps --version`, `gps info [--json]`, env.json in every
// run directory, the command list when no command is given, the closest
// command to a misspelt one, and bar-chart labels that do not overlap.
#include "gps/core/env_info.h"
#include "gps/io/plot.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include <fstream>

using ::testing::HasSubstr;

using gps::test::run_gps;

TEST(EnvInfo, VersionNamesGpsAndItsLibraries) {
  const auto r = run_gps("--version");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("gps 0.1.0 (commit "));
  EXPECT_THAT(r.output, HasSubstr(std::string("LibTorch ") + TORCH_VERSION));
  EXPECT_THAT(r.output, HasSubstr("FAISS 1."));
  EXPECT_THAT(r.output, HasSubstr("OpenCV 4."));
}

TEST(EnvInfo, InfoJsonParsesAndHoldsTheEnvironment) {
  const auto r = run_gps("info --json --threads 1", false);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["libraries"]["libtorch"], TORCH_VERSION);
  EXPECT_EQ(j["cpu"]["torch_threads"], 1);
  EXPECT_GE(j["cpu"]["cores"].get<int>(), 1);
  for (const char* f : {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
    EXPECT_TRUE(j["cpu"]["flags"][f].is_boolean()) << f;
  EXPECT_TRUE(j["cuda"]["devices"].is_array());
  EXPECT_EQ(j["cuda"]["available"].get<bool>(), !j["cuda"]["devices"].empty() && j["cuda"]["available"].get<bool>());
  EXPECT_TRUE(j["distributed"]["gloo"].get<bool>());
  // The text form says the same, and the one-line summary names CPU and GPU.
  const auto text = run_gps("info");
  EXPECT_EQ(text.code, 0);
  EXPECT_THAT(text.output, HasSubstr("LibTorch"));
  EXPECT_THAT(text.output, HasSubstr(j["cpu"]["model"].get<std::string>()));
  EXPECT_THAT(gps::hardware_line(j), HasSubstr("GPU: "));
}

TEST(EnvInfo, NoCommandListsTheCommands) {
  const auto r = run_gps("");
  EXPECT_NE(r.code, 0);
  for (const char* c : {"train", "compare", "experiment", "info", "launch"}) EXPECT_THAT(r.output, HasSubstr(c));
  EXPECT_THAT(r.output, HasSubstr("a command is required"));
}

TEST(EnvInfo, AMisspeltCommandIsNamedWithTheClosestMatch) {
  auto r = run_gps("trian -c x.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown command 'trian'; did you mean 'train'?"));
  r = run_gps("exprement");
  EXPECT_THAT(r.output, HasSubstr("did you mean 'experiment'?"));
  r = run_gps("zzzzzzzz");
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("unknown command 'zzzzzzzz'"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("did you mean")));
}

TEST(EnvInfo, EveryRunDirectoryHoldsEnvJson) {
  gps::test::TempDir tmp;
  gps::test::write_tiny_mnist(tmp.file("fm"), 40, 10);
  const auto r = run_gps("train data.root=" + tmp.file("fm") + " train.out_dir=" + tmp.file("runs") +
                         " train.name=run model.width=2 method.proj_hidden_dim=8 method.proj_output_dim=4 "
                         "optim.batch_size=10 optim.epochs=1 optim.warmup_epochs=0 eval.enabled=false "
                         "train.progress=false train.threads=1");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(tmp.file("runs/run/env.json"));
  ASSERT_TRUE(f.good());
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["libraries"]["libtorch"], TORCH_VERSION);
  EXPECT_EQ(j["cpu"]["torch_threads"], 1) << "the run's thread count";
}

// Long group labels wrap to their cluster's width instead of running into
// the neighbouring label.
TEST(Plot, LongBarLabelsWrapWithinTheirGroup) {
  const std::string label = "barlow_twins / strong / gps=true / seed 0";
  const int width = 70;
  const auto lines = gps::wrap_label(label, width);
  ASSERT_GT(lines.size(), 1u);
  std::string joined;
  for (const auto& l : lines) {
    EXPECT_LE(gps::label_width(l), width) << l;
    joined += l;
  }
  auto squeeze = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    return s;
  };
  EXPECT_EQ(squeeze(joined), squeeze(label)) << "no character lost";
  EXPECT_EQ(gps::wrap_label("short", 200), std::vector<std::string>{"short"});
  const auto cut = gps::wrap_label("averyveryverylongwordwithoutbreaks", 40);
  for (const auto& l : cut) EXPECT_LE(gps::label_width(l), 40) << l;

  // A chart of six long labels at 720 px renders at the requested size.
  gps::BarChart b;
  for (int i = 0; i < 6; ++i) b.groups.push_back("method_" + std::to_string(i) + " / weak-rrc / gps");
  b.series = {"plain", "GPS"};
  b.values = {std::vector<double>(6, 10.0), std::vector<double>(6, 12.0)};
  gps::PlotOptions o;
  o.title = "runtime";
  const auto img = gps::render_bar_chart(b, o);
  EXPECT_EQ(img.sizes(), (torch::IntArrayRef{3, 440, 720}));
}
