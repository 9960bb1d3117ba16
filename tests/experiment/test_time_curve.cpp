// Time to accuracy (gps/experiment/time_curve.h): minutes without the kNN
// evaluations, the table, the errors, and the clock a real run writes.
#include "gps/experiment/time_curve.h"
#include "gps/io/fs.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace gps;

namespace {

// A run directory with kNN records at run_seconds 120, 240 (each kNN took 30 s)
// and a summary at 400 s with a linear probe of 81.5 %.
std::string fake_run(test::TempDir& tmp, const std::string& name, const std::string& extra_metrics = "",
                     bool interrupted = false, bool with_clock = true) {
  const std::string dir = tmp.file(name);
  std::filesystem::create_directories(dir);
  std::ofstream m(dir + "/metrics.jsonl");
  m << "{\"step\":10,\"epoch\":0,\"loss\":5.0}\n"
    << "{\"event\":\"knn\",\"epoch\":1,\"step\":20,\"knn_top1\":70.0,\"seconds\":30"
    << (with_clock ? ",\"run_seconds\":120" : "") << "}\n"
    << extra_metrics
    << "{\"event\":\"knn\",\"epoch\":2,\"step\":40,\"knn_top1\":76.0,\"seconds\":30,\"run_seconds\":240}\n";
  std::ofstream s(dir + "/summary.json");
  s << "{\"interrupted\":" << (interrupted ? "true" : "false")
    << ",\"run_seconds\":400,\"eval\":{\"linear_top1\":81.5,\"knn_top1\":77.0}}";
  return dir;
}

}  // namespace

TEST(TimeCurve, MinutesLeaveOutTheCurvesOwnKnnEvaluations) {
  test::TempDir tmp;
  const TimeCurve c = read_time_curve(fake_run(tmp, "a"), "gps");
  ASSERT_EQ(c.points.size(), 3u);
  EXPECT_DOUBLE_EQ(c.points[0].minutes, (120.0 - 30.0) / 60.0);  // its own 30 s left out
  EXPECT_DOUBLE_EQ(c.points[1].minutes, (240.0 - 60.0) / 60.0);
  EXPECT_DOUBLE_EQ(c.points[2].minutes, (400.0 - 60.0) / 60.0);
  EXPECT_FALSE(c.points[0].linear);
  EXPECT_TRUE(c.points[2].linear);
  EXPECT_DOUBLE_EQ(c.points[2].top1, 81.5);
  EXPECT_DOUBLE_EQ(c.total_minutes, 340.0 / 60.0);
  EXPECT_DOUBLE_EQ(c.knn_minutes, 1.0);

  EXPECT_TRUE(std::isnan(accuracy_at(c, 1.0)));  // no point by 1 minute
  EXPECT_DOUBLE_EQ(accuracy_at(c, 1.5), 70.0);
  EXPECT_DOUBLE_EQ(accuracy_at(c, 3.0), 76.0);
  EXPECT_DOUBLE_EQ(accuracy_at(c, 100.0), 81.5);
  EXPECT_DOUBLE_EQ(minutes_to_reach(c, 75.0), 3.0);
  EXPECT_DOUBLE_EQ(minutes_to_reach(c, 81.5), 340.0 / 60.0);
  EXPECT_TRUE(std::isnan(minutes_to_reach(c, 90.0)));

  const std::string table = time_curves_table({c}, {2, 5, 10});
  EXPECT_NE(table.find("| recipe | top-1 by 2 min | top-1 by 5 min | top-1 by 10 min | final linear |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| gps | 70.00 | 76.00 | 81.50 | 81.50 | 5.67 | 1.00 |"), std::string::npos) << table;

  const std::string png = tmp.file("curve.png");
  save_time_curves_png(png, {c, read_time_curve(fake_run(tmp, "b"), "plain")}, "two runs");
  const cv::Mat img = cv::imread(png);
  EXPECT_EQ(img.cols, 900);
  EXPECT_EQ(img.rows, 520);
}

TEST(TimeCurve, ResumedInterruptedOrUnclockedRunsAreRefusedNamingTheFile) {
  test::TempDir tmp;
  const auto error_for = [](const std::string& run) { return test::error_of([&] { read_time_curve(run, "x"); }); };
  const std::string resumed = fake_run(tmp, "resumed", "{\"event\":\"resume\",\"step\":20}\n");
  EXPECT_NE(error_for(resumed).find(resumed + "/metrics.jsonl:3: the run was resumed"), std::string::npos);
  const std::string stopped = fake_run(tmp, "stopped", "", true);
  EXPECT_NE(error_for(stopped).find(stopped + "/summary.json: the run was interrupted"), std::string::npos);
  const std::string old = fake_run(tmp, "old", "", false, false);
  EXPECT_NE(error_for(old).find(old + "/metrics.jsonl:2: a kNN record without run_seconds"), std::string::npos);
  const std::string missing = tmp.file("nothing");
  EXPECT_NE(error_for(missing).find(missing + "/metrics.jsonl"), std::string::npos);
}

TEST(TimeCurve, ATrainedRunClocksItsKnnRecordsAndItsSummary) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 3);
  c.eval.knn_every = 1;
  c.train.name = "clocked";
  train(c, "test");
  const std::string run = tmp.file("runs/clocked");
  std::istringstream lines(read_file(run + "/metrics.jsonl"));
  std::vector<double> clock, own;
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("event", "") != "knn") continue;
    clock.push_back(j.at("run_seconds").get<double>());
    own.push_back(j.at("seconds").get<double>());
  }
  ASSERT_EQ(clock.size(), 3u);  // one per epoch
  for (size_t i = 0; i < clock.size(); ++i) {
    EXPECT_GE(clock[i], own[i]);  // the clock includes the evaluation it stamps
    if (i > 0) EXPECT_GE(clock[i] - clock[i - 1], own[i]);
  }
  const auto summary = nlohmann::json::parse(read_file(run + "/summary.json"));
  EXPECT_GE(summary.at("run_seconds").get<double>(), clock.back());
  const TimeCurve tc = read_time_curve(run, "tiny");
  ASSERT_EQ(tc.points.size(), 4u);  // three kNN points, then the linear probe
  EXPECT_TRUE(tc.points.back().linear);
  for (size_t i = 1; i < tc.points.size(); ++i) EXPECT_GE(tc.points[i].minutes, tc.points[i - 1].minutes);
}
