#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/core/suggest.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace gps;
using gps::test::error_of;
using ::testing::HasSubstr;

TEST(Config, DefaultsRoundTripThroughYaml) {
  Config a;
  a.optim.lr = 0.123;
  a.neighbors.rules.k = 9;
  a.train.name = "x y";
  Config b;
  b.merge_yaml_text(a.to_yaml(), "roundtrip");
  EXPECT_EQ(a.to_yaml(), b.to_yaml());
  EXPECT_DOUBLE_EQ(b.optim.lr, 0.123);
}

TEST(Config, UnknownKeyNamesTheKey) {
  Config c;
  auto msg = error_of([&] { c.set("optim.learning_rate", "0.1"); });
  EXPECT_NE(msg.find("optim.learning_rate"), std::string::npos) << msg;
  msg = error_of([&] { c.merge_yaml_text("optim:\n  lr: 0.1\n  nesterov: true\n", "f.yaml"); });
  EXPECT_NE(msg.find("f.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("optim.nesterov"), std::string::npos) << msg;
  msg = error_of([&] { c.set("neighbours.k", "3"); });
  EXPECT_NE(msg.find("neighbors.k"), std::string::npos) << "suggests the right key: " << msg;
}

TEST(Config, WrongTypesAndRangesNameTheKey) {
  Config c;
  auto msg = error_of([&] { c.set("optim.batch_size", "big"); });
  EXPECT_NE(msg.find("optim.batch_size"), std::string::npos);
  EXPECT_NE(msg.find("integer"), std::string::npos);
  msg = error_of([&] { c.set("optim.lr", "-1"); });
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
  msg = error_of([&] { c.set("gps", "maybe"); });
  EXPECT_NE(msg.find("true or false"), std::string::npos) << msg;
  msg = error_of([&] { c.set("method.name", "moco"); });
  EXPECT_NE(msg.find("simclr"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { c.set("optim.batch_size", "12.5"); }), "");
  EXPECT_NE(error_of([&] { c.set("optim.lr", "nan"); }), "");
  EXPECT_NE(error_of([&] { c.merge_yaml_text("optim: [1, 2]", "l.yaml"); }), "");
  EXPECT_NE(error_of([&] { c.merge_yaml_text("optim:\n  lr: [1, 2]\n", "l.yaml"); }), "");
  EXPECT_NE(error_of([&] { c.merge_yaml_text("optim: {lr: 0.1", "broken.yaml"); }).find("broken.yaml"),
            std::string::npos);
}

TEST(Config, OverridesTakePrecedenceOverFileInOrder) {
  test::TempDir tmp;
  test::write_bytes(tmp.file("c.yaml"), "optim:\n  lr: 0.5\n  epochs: 3\n  warmup_epochs: 1\nneighbors.k: 7\n");
  auto c = load_config(tmp.file("c.yaml"), {"optim.lr=0.25", "optim.lr=0.125", "gps=false"});
  EXPECT_DOUBLE_EQ(c.optim.lr, 0.125);
  EXPECT_EQ(c.optim.epochs, 3);
  EXPECT_EQ(c.neighbors.rules.k, 7);
  EXPECT_FALSE(c.gps);
  EXPECT_NE(error_of([&] { load_config(tmp.file("c.yaml"), {"optim.lr"}); }).find("key=value"), std::string::npos);
  EXPECT_NE(error_of([&] { load_config(tmp.file("missing.yaml"), {}); }).find("missing.yaml"), std::string::npos);
}

TEST(Config, ContradictionsAreRejected) {
  EXPECT_NE(error_of([] { load_config("", {"optim.epochs=5", "optim.warmup_epochs=10"}); }).find("warmup_epochs"),
            std::string::npos);
}

TEST(Config, ShippedConfigsLoad) {
  for (auto name : {"fmnist-simclr-weak.yaml"}) {
    EXPECT_NO_THROW(load_config(std::string(GPS_SOURCE_DIR) + "/configs/" + name, {})) << name;
  }
}

// Typos get "did you mean" by edit distance: keys, sections, choices and
// registered names (the five typos a newcomer met, issue 45).
TEST(Config, TyposSuggestTheNearestKeyOrValue) {
  const std::vector<std::pair<std::string, std::string>> typos = {{"optim.epochz", "'optim.epochs'"},
                                                                  {"optim.lrr", "'optim.lr'"},
                                                                  {"neighbors.kk", "'neighbors.k'"},
                                                                  {"method.temprature", "'method.temperature'"},
                                                                  {"train.devcie", "'train.device'"},
                                                                  {"optimm.momentum", "'optim.momentum'"}};
  for (const auto& [typo, want] : typos) {
    Config c;
    const std::string err = test::error_of([&] { c.set(typo, "1"); });
    EXPECT_THAT(err, HasSubstr("unknown config key '" + typo + "'")) << err;
    EXPECT_THAT(err, HasSubstr("did you mean " + want)) << err;
  }
  Config c;
  EXPECT_THAT(test::error_of([&] { c.set("k", "3"); }), HasSubstr("neighbors.k")) << "same last component";
  EXPECT_THAT(test::error_of([&] { c.set("train.precision", "bf61"); }), HasSubstr("did you mean 'bf16'?"));
  EXPECT_THAT(test::error_of([&] { c.set("method.name", "simclrr"); }), HasSubstr("did you mean 'simclr'?"));
  c.train.device = "cpuu";
  EXPECT_THAT(test::error_of([&] { c.validate(); }), HasSubstr("did you mean 'cpu'?"));
  EXPECT_EQ(did_you_mean("zzzzzzzz", {"simclr", "byol"}), "") << "nothing near: no guess";
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}
