// Per-method defaults: each method's reference recipe (methods/recipes.h),
// checked against a table typed here from the reference's CIFAR-10 configs
// (aarashfeizi/gps-ssl scripts/pretrain/cifar10/<method>.yaml and its
// augmentations/*.yaml).
#include "gps/augment/augment.h"
#include "gps/config/config.h"
#include "gps/experiment/grid.h"
#include "gps/methods/method.h"
#include "gps/methods/recipes.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <map>

namespace {

struct Expected {
  std::string optim, lr, wd, hidden, out, pred_hidden;  // pred_hidden "" = the struct default
  std::string views;  // describe() of the strong preset's two views, solarization included
};

// Values as the reference files write them; the views as solo-learn's
// cifar augmentation files define them (32 px there, the input size here).
const std::map<std::string, Expected>& table() {
  static const std::string sym = "jitter 0.8: 0.8/0.8/0.8/0.2, gray 0.2, blur 0.5, flip 0.5)";
  static const std::string asym1 = "jitter 0.8: 0.4/0.4/0.2/0.1, gray 0.2, flip 0.5)";
  static const std::string asym2 =
      " / asymmetric(rrc 0.08-1 to input size, jitter 0.8: 0.4/0.4/0.2/0.1, gray 0.2, solarize 0.2, flip 0.5)";
  static const std::map<std::string, Expected> t = {
      {"simclr", {"lars", "0.4", "0.0001", "2048", "256", "", sym}},
      {"byol", {"lars", "1", "1e-05", "4096", "256", "4096", asym1 + asym2}},
      {"nnclr", {"lars", "0.4", "1e-05", "2048", "256", "4096", asym1 + asym2}},
      {"barlow_twins", {"lars", "0.3", "0.0001", "2048", "2048", "", asym1 + asym2}},
      {"vicreg", {"lars", "0.3", "0.0001", "2048", "2048", "",
                  "jitter 0.8: 0.4/0.4/0.2/0.1, gray 0.2, solarize 0.1, flip 0.5)"}},
      {"mocov3", {"lars", "0.3", "1e-06", "4096", "256", "4096", asym1 + asym2}},
      {"simsiam", {"sgd", "0.5", "1e-05", "2048", "2048", "512",
                   "jitter 0.8: 0.4/0.4/0.4/0.1, gray 0.2, blur 0.5, flip 0.5)"}},
      {"dino", {"lars", "0.3", "1e-06", "2048", "256", "", asym1 + asym2}},
      {"swav", {"lars", "0.6", "1e-06", "2048", "128", "", sym}},
  };
  return t;
}

std::string strong_views(const gps::Config& c) {
  return gps::make_augmentation(gps::augment_for(c), {0.5f}, {0.25f})->describe();
}

}  // namespace

TEST(Recipes, EveryBuiltInMethodHasItsReferenceRecipe) {
  for (const auto& m : gps::test::builtin_methods()) {
    ASSERT_TRUE(table().count(m)) << m;
    ASSERT_NE(gps::find_method_recipe(m), nullptr) << m;
    const Expected& e = table().at(m);
    const gps::Config c = gps::load_config("", {"method.name=" + m, "augment.preset=strong"});
    EXPECT_EQ(c.get("optim.name"), e.optim) << m;
    EXPECT_EQ(c.get("optim.lr"), e.lr) << m;
    EXPECT_EQ(c.get("optim.weight_decay"), e.wd) << m;
    EXPECT_EQ(c.get("method.proj_hidden_dim"), e.hidden) << m;
    EXPECT_EQ(c.get("method.proj_output_dim"), e.out) << m;
    if (!e.pred_hidden.empty()) EXPECT_EQ(c.get("method.pred_hidden_dim"), e.pred_hidden) << m;
    if (e.optim == "lars") {
      EXPECT_EQ(c.get("optim.eta"), "0.02") << m;
      EXPECT_EQ(c.get("optim.exclude_bias_n_norm"), "true") << m;
    }
    // The config keeps the user's word; the views are the method's StrongAug.
    EXPECT_EQ(c.augment.preset, "strong");
    const std::string views = strong_views(c);
    EXPECT_NE(views.find(e.views), std::string::npos) << m << ": " << views;
  }
  for (const auto& r : gps::method_recipes()) EXPECT_EQ(table().count(r.method), 1u) << r.method;
}

TEST(Recipes, MethodKeysBeyondTheOptimiser) {
  const auto swav = gps::load_config("", {"method.name=swav"});
  EXPECT_EQ(swav.method.num_prototypes, 3000);
  EXPECT_EQ(swav.method.queue_size, 3840);
  EXPECT_EQ(swav.method.epoch_queue_starts, 50);
  EXPECT_EQ(swav.method.freeze_last_layer, 2);
  EXPECT_DOUBLE_EQ(swav.method.temperature, 0.1);
  EXPECT_DOUBLE_EQ(gps::load_config("", {"method.name=dino"}).method.tau_base, 0.9995);
  EXPECT_DOUBLE_EQ(gps::load_config("", {"method.name=mocov3"}).optim.classifier_lr, 0.3);
  EXPECT_EQ(gps::load_config("", {"method.name=nnclr"}).method.queue_size, 65536);
}

TEST(Recipes, StrongSolarizesWhereTheReferenceDoes) {
  // The paper's StrongAug lists solarization; the reference applies it in
  // the asymmetric (view 2, p 0.2) and VICReg (p 0.1) recipes, not in
  // symmetric.yaml (SimCLR, SwAV: p 0).
  for (const std::string m : {"byol", "nnclr", "barlow_twins", "mocov3", "dino", "vicreg"})
    EXPECT_NE(strong_views(gps::load_config("", {"method.name=" + m, "augment.preset=strong"})).find("solarize"),
              std::string::npos)
        << m;
  for (const std::string m : {"simclr", "swav", "simsiam"})
    EXPECT_EQ(strong_views(gps::load_config("", {"method.name=" + m, "augment.preset=strong"})).find("solarize"),
              std::string::npos)
        << m;
  // Unresolved, "strong" is refused with what to do.
  gps::AugmentConfig a;
  a.preset = "strong";
  EXPECT_NE(gps::test::error_of([&] { gps::make_augmentation(a, {0.5f}, {0.25f}); }).find("augment_for"),
            std::string::npos);
}

TEST(Recipes, TheFileAndTheOverridesWin) {
  gps::test::TempDir dir;
  const std::string path = dir.file("byol.yaml");
  gps::test::write_bytes(path, "method:\n  name: byol\n  proj_hidden_dim: 512\noptim:\n  lr: 0.7\n");
  const auto c = gps::load_config(path, {"optim.weight_decay=0.001"});
  EXPECT_EQ(c.method.proj_hidden_dim, 512);  // the file
  EXPECT_DOUBLE_EQ(c.optim.lr, 0.7);          // the file
  EXPECT_DOUBLE_EQ(c.optim.weight_decay, 0.001);  // the override
  EXPECT_EQ(c.optim.name, "lars");            // the recipe
  EXPECT_EQ(c.method.pred_hidden_dim, 4096);  // the recipe
  // An override naming the method brings that method's recipe.
  const auto d = gps::load_config(path, {"method.name=simsiam"});
  EXPECT_EQ(d.optim.name, "sgd");
  EXPECT_EQ(d.method.pred_hidden_dim, 512);
  EXPECT_EQ(d.method.proj_hidden_dim, 512);  // still the file's
}

TEST(Recipes, GridCellsGetTheirMethodsRecipe) {
  const auto spec = gps::parse_experiment("grid:\n  method.name: [simclr, byol]\noptim:\n  epochs: 3\n  warmup_epochs: 1\n", "t.yaml", {},
                                          "t");
  const auto cells = gps::expand_grid(spec);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].config.optim.name, "lars");
  EXPECT_DOUBLE_EQ(cells[0].config.optim.lr, 0.4);
  EXPECT_DOUBLE_EQ(cells[1].config.optim.lr, 1.0);
  EXPECT_EQ(cells[1].config.method.proj_hidden_dim, 4096);
  EXPECT_EQ(cells[1].config.optim.epochs, 3);
  // The same as the cell's own config through load_config.
  auto own = gps::load_config("", {"method.name=byol", "optim.epochs=3", "optim.warmup_epochs=1"});
  own.train = cells[1].config.train;
  EXPECT_EQ(own.to_yaml(), cells[1].config.to_yaml());
}
