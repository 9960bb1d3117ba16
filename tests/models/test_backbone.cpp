// The backbone interface and its registry: the built-in ResNets by name, a
// backbone of another kind registered from outside models/ (here: a tiny
// MLP), training with it, and export refusing what is neither a ResNet nor a ViT.
#include "gps/core/check.h"
#include "gps/methods/method.h"
#include "gps/models/backbone.h"
#include "gps/models/export.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace gps;
using ::testing::HasSubstr;

namespace {

// Flattens the image and applies one linear layer: the smallest backbone.
class FlatBackboneImpl : public BackboneImpl {
 public:
  FlatBackboneImpl(int64_t in_features, int64_t features)
      : fc_(register_module("fc", torch::nn::Linear(in_features, features))), dim_(features) {}
  torch::Tensor forward(const torch::Tensor& x) override { return torch::relu(fc_(x.flatten(1))); }
  int64_t feature_dim() const override { return dim_; }
  std::string name() const override { return "test-flat"; }

 private:
  torch::nn::Linear fc_;
  int64_t dim_;
};

void register_flat_once() {
  static const bool done = [] {
    register_backbone("test-flat", [](const ModelConfig& cfg, int64_t in_channels) {
      return Backbone(std::shared_ptr<BackboneImpl>(std::make_shared<FlatBackboneImpl>(in_channels * 8 * 8, 4 * cfg.width)));
    });
    return true;
  }();
  (void)done;
}

}  // namespace

TEST(Backbone, BuiltInResNetsByName) {
  const auto names = backbone_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "resnet18"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "resnet50"), names.end());
  ModelConfig m;
  m.width = 2;
  for (const std::string arch : {"resnet18", "resnet50"}) {
    m.arch = arch;
    Backbone b = make_backbone(m, 1);
    EXPECT_EQ(b->name(), arch);
    EXPECT_EQ(b(torch::randn({3, 1, 16, 16})).sizes(), (std::vector<int64_t>{3, b->feature_dim()}));
  }
  m.arch = "vit_huge";
  EXPECT_THAT(test::error_of([&] { make_backbone(m, 1); }),
              HasSubstr("model.arch: unknown backbone 'vit_huge' (expected "));
  EXPECT_THAT(test::error_of([&] { register_backbone("resnet18", nullptr); }), HasSubstr("a factory is needed"));
  EXPECT_THAT(test::error_of([&] {
                register_backbone("resnet18", [](const ModelConfig&, int64_t) { return Backbone(nullptr); });
              }),
              HasSubstr("'resnet18' is already registered"));
}

// A backbone registered from outside models/ trains with a method like the
// built-in ones; exporting it to torchvision's names is refused by name.
TEST(Backbone, ARegisteredBackboneTrainsAndExportRefusesIt) {
  register_flat_once();
  EXPECT_THAT(test::error_of([] { register_flat_once(); register_backbone("test-flat", [](const ModelConfig&, int64_t) {
                return Backbone(nullptr); }); }),
              HasSubstr("'test-flat' is already registered"));
  ModelConfig m;
  m.arch = "test-flat";
  m.width = 2;
  Backbone b = make_backbone(m, 1);
  EXPECT_EQ(b->feature_dim(), 8);
  EXPECT_THAT(test::error_of([&] { backbone_state(b); }), HasSubstr("model.arch=test-flat is neither a ResNet nor a ViT"));

  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.model = m;
  c.eval.enabled = false;
  Method method = make_method(c.method, c.model, 1);
  EXPECT_EQ(method->backbone()->name(), "test-flat");
  const auto r = train(c, "test");  // model.arch=test-flat passes the config's check and trains
  EXPECT_EQ(r.steps, 2);
  EXPECT_TRUE(std::isfinite(r.final_loss));
  c.model.arch = "nope";
  EXPECT_THAT(test::error_of([&] { train(c, "test"); }), HasSubstr("test-flat"));  // listed among the names
}
