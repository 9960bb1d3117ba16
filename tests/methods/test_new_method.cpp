// A new two-view method (tests/methods/toy_simsiam.h) joins gps with one
// registry line: method.name accepts it, gps trains it plain and with GPS,
// and it receives the step's views, made of the anchors and the positives.
#include "gps/core/check.h"
#include "gps/methods/method.h"
#include "gps/train/trainer.h"
#include "test_util.h"
#include "toy_simsiam.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace gps;
using ::testing::HasSubstr;

namespace {

const bool registered = [] {
  register_method("toy_simsiam", [](const MethodConfig& c, const ModelConfig& m, int64_t ch) -> Method {
    return std::make_shared<test::ToySimSiamImpl>(c, m, ch);
  });
  return true;
}();

}  // namespace

TEST(NewMethod, OneRegistryLineMakesItTrainable) {
  ASSERT_TRUE(registered);
  const auto names = method_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "toy_simsiam"), names.end());
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  for (const bool gps : {false, true}) {
    Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
    c.method.name = "toy_simsiam";
    c.method.pred_hidden_dim = 16;
    c.gps = gps;
    c.eval.enabled = false;
    const auto r = train(c, "test");
    EXPECT_EQ(r.steps, 2);
    EXPECT_TRUE(std::isfinite(r.final_loss)) << (gps ? "gps" : "plain");
  }
  EXPECT_THAT(test::error_of([] {
                register_method("simclr", [](const MethodConfig&, const ModelConfig&, int64_t) { return Method(); });
              }),
              HasSubstr("'simclr' is already registered"));
  Config bad;
  bad.method.name = "simsiam_typo";
  EXPECT_THAT(test::error_of([&] { bad.validate(); }), HasSubstr("method.name: unknown method 'simsiam_typo'"));
}

// Every method reads the first two views; fewer is an error naming it.
TEST(NewMethod, TwoViewsAreRequired) {
  ModelConfig m;
  m.width = 2;
  MethodConfig c;
  c.proj_hidden_dim = 16;
  c.proj_output_dim = 8;
  c.pred_hidden_dim = 16;
  for (const std::string& name : method_names()) {
    c.name = name;
    Method method = make_method(c, m, 1);
    const Views one = {{torch::randn({4, 1, 8, 8}), ViewOf::anchor}};
    EXPECT_THAT(test::error_of([&] { method->training_step(one); }), HasSubstr(name + ": needs two views"));
  }
}
