// The evaluation suite on frozen features: linear probe (with validation-split
// selection), weighted kNN and Recall@k against brute-force references,
// determinism, periodic kNN, the PNG plots, and the paper's SGD-grid probe.
#include "gps/config/config.h"
#include "gps/data/registry.h"
#include "gps/eval/evaluate.h"
#include "gps/eval/knn.h"
#include "gps/eval/linear_probe.h"
#include "gps/eval/linear_select.h"
#include "gps/optim/schedule.h"
#include "gps/eval/periodic_knn.h"
#include "gps/eval/retrieval.h"
#include "gps/io/plot.h"
#include "gps/models/backbone.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace gps;

namespace {

// n points per class around far-apart class means in d dimensions: linearly separable.
std::pair<torch::Tensor, torch::Tensor> separable(int64_t n_per_class, int64_t classes, int64_t d, uint64_t seed) {
  torch::Generator g = at::detail::createCPUGenerator(seed);
  auto means = torch::randn({classes, d}, g) * 6.0;
  auto y = torch::arange(classes, torch::kInt64).repeat_interleave(n_per_class);
  auto x = means.index_select(0, y) + torch::randn({y.size(0), d}, g) * 0.5;
  return {x, y};
}

// Dataset wrapper around labels for evaluate_features (images only give the count).
Dataset labelled(const torch::Tensor& y, int64_t classes, const std::string& name) {
  Dataset d;
  d.name = name;
  d.set_images(torch::zeros({y.size(0), 1, 1, 1}, torch::kUInt8));
  d.labels = y;
  d.num_classes = classes;
  return d;
}

// Reference kNN: per query, similarities in double, neighbours by descending
// similarity (index order on ties), weights exp((s - s_nearest) / T) for l2 and
// exp(s / T) for cosine, lowest class on tied scores.
std::vector<int64_t> knn_reference(const torch::Tensor& tr, const torch::Tensor& ty, const torch::Tensor& te,
                                   int64_t k, double T, int64_t C, const std::string& metric) {
  auto a = tr.to(torch::kFloat64), b = te.to(torch::kFloat64);
  const int64_t N = a.size(0), M = b.size(0), D = a.size(1);
  std::vector<int64_t> out;
  for (int64_t q = 0; q < M; ++q) {
    std::vector<double> s(N);
    for (int64_t i = 0; i < N; ++i) {
      double dot = 0, na = 0, nb = 0, d2 = 0;
      for (int64_t j = 0; j < D; ++j) {
        const double x = a[i][j].item<double>(), y = b[q][j].item<double>();
        dot += x * y, na += x * x, nb += y * y, d2 += (x - y) * (x - y);
      }
      s[i] = metric == "cosine" ? dot / std::sqrt(na * nb) : -d2;
    }
    std::vector<int64_t> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
    std::vector<double> score(C, 0);
    for (int64_t r = 0; r < std::min(k, N); ++r) {
      const double w = metric == "cosine" ? std::exp(s[order[r]] / T) : std::exp((s[order[r]] - s[order[0]]) / T);
      score[ty[order[r]].item<int64_t>()] += w;
    }
    out.push_back(int64_t(std::max_element(score.begin(), score.end()) - score.begin()));
  }
  return out;
}

std::map<int64_t, double> recall_reference(const torch::Tensor& x, const torch::Tensor& y,
                                           const std::vector<int64_t>& ks, const std::string& metric) {
  auto a = x.to(torch::kFloat64);
  if (metric == "cosine") a = a / a.norm(2, 1, true);
  const int64_t N = a.size(0);
  std::map<int64_t, double> out;
  for (auto k : ks) out[k] = 0;
  for (int64_t q = 0; q < N; ++q) {
    std::vector<std::pair<double, int64_t>> nb;
    for (int64_t i = 0; i < N; ++i) {
      if (i == q) continue;
      const double s = metric == "cosine" ? (a[q] * a[i]).sum().item<double>() : -(a[q] - a[i]).pow(2).sum().item<double>();
      nb.emplace_back(s, i);
    }
    std::sort(nb.begin(), nb.end(), [](auto& l, auto& r) { return l.first > r.first; });
    for (auto k : ks) {
      bool hit = false;
      for (int64_t r = 0; r < std::min<int64_t>(k, nb.size()); ++r) hit |= y[nb[r].second].item<int64_t>() == y[q].item<int64_t>();
      out[k] += hit ? 1.0 / double(N) : 0.0;
    }
  }
  return out;
}

}  // namespace

TEST(LinearProbe, SeparableFeaturesReachAtLeast99Percent) {
  // Even rows train, odd rows test: the same class means, different noise.
  auto [x, y] = separable(150, 4, 16, 1);
  const auto even = torch::arange(0, x.size(0), 2), odd = torch::arange(1, x.size(0), 2);
  const auto xtr = x.index_select(0, even), ytr = y.index_select(0, even);
  const auto xte = x.index_select(0, odd), yte = y.index_select(0, odd);
  LinearProbeOptions o;
  o.epochs = 20;
  const auto r = linear_probe(xtr, ytr, xte, yte, 4, o);
  EXPECT_GE(r.train_accuracy, 0.99);
  EXPECT_GE(r.test_accuracy, 0.99);

  LinearSelectOptions so;
  so.base = o;
  so.lrs = {1e-3, 1e-2, 1e-1};
  so.weight_decays = {0, 1e-4};
  const auto s = linear_probe_select(xtr, ytr, xte, yte, 4, so);
  EXPECT_GE(s.refit.test_accuracy, 0.99);
  EXPECT_GE(s.val_accuracy, 0.99);
  EXPECT_EQ(s.grid_val_accuracy.size(), 6u);
  EXPECT_NE(std::find(so.lrs.begin(), so.lrs.end(), s.lr), so.lrs.end());
  EXPECT_EQ(s.fit_rows + s.val_rows, xtr.size(0));
}

TEST(LinearProbe, SelectionPicksTheBestValidationPairFirstOnTies) {
  auto [x, y] = separable(40, 3, 6, 5);
  LinearSelectOptions so;
  so.base.epochs = 3;
  so.lrs = {0.0, 0.05};  // lr 0 keeps the random initial weights: worse on validation
  so.weight_decays = {0};
  const auto s = linear_probe_select(x, y, x, y, 3, so);
  EXPECT_EQ(s.lr, 0.05);
  EXPECT_GT(s.grid_val_accuracy[1], s.grid_val_accuracy[0]);
  EXPECT_EQ(s.val_accuracy, s.grid_val_accuracy[1]);
}

TEST(LinearProbe, ValidationSplitIsStratifiedDisjointAndSeeded) {
  auto y = torch::tensor(std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2}, torch::kInt64);
  const auto [fit, val] = stratified_val_split(y, 0.2, 7);
  EXPECT_EQ(fit.size(0) + val.size(0), y.size(0));
  auto all = std::get<0>(torch::cat({fit, val}).sort());
  EXPECT_TRUE(torch::equal(all, torch::arange(16, torch::kInt64)));
  auto vy = y.index_select(0, val);
  EXPECT_EQ(vy.eq(0).sum().item<int64_t>(), 2);  // round(10 * 0.2)
  EXPECT_EQ(vy.eq(1).sum().item<int64_t>(), 1);  // round(5 * 0.2)
  EXPECT_EQ(vy.eq(2).sum().item<int64_t>(), 0);  // a single row stays in fit
  const auto again = stratified_val_split(y, 0.2, 7);
  EXPECT_TRUE(torch::equal(val, again.second));
  EXPECT_NE(test::error_of([&] { stratified_val_split(y, 1.5, 0); }).find("eval.val_fraction"), std::string::npos);
}

TEST(Knn, HandMadeCase) {
  // Two class-0 points near (1, 0), one class-1 point at (0, 1); query near (1, 0).
  auto tr = torch::tensor({1.0f, 0.0f, 0.9f, 0.1f, 0.0f, 1.0f}).view({3, 2});
  auto ty = torch::tensor(std::vector<int64_t>{0, 0, 1}, torch::kInt64);
  auto te = torch::tensor({0.2f, 1.0f, 1.0f, 0.05f}).view({2, 2});
  for (const char* metric : {"cosine", "l2"}) {
    auto p1 = knn_predict(tr, ty, te, 1, 0.1, 2, metric);
    EXPECT_EQ(p1[0].item<int64_t>(), 1) << metric;
    EXPECT_EQ(p1[1].item<int64_t>(), 0) << metric;
    // k = 3 with a huge temperature: plain majority vote, 2 to 1 for class 0.
    auto p3 = knn_predict(tr, ty, te, 3, 1e4, 2, metric);
    EXPECT_EQ(p3[0].item<int64_t>(), 0) << metric;
  }
  EXPECT_NE(test::error_of([&] { knn_predict(tr, ty, te, 1, 0.1, 2, "manhattan"); }).find("eval.knn_metric"),
            std::string::npos);
}

TEST(Knn, MatchesBruteForceReference) {
  torch::Generator g = at::detail::createCPUGenerator(11);
  auto tr = torch::randn({40, 5}, g), te = torch::randn({15, 5}, g);
  auto ty = torch::randint(0, 3, {40}, g, torch::kInt64);
  for (const char* metric : {"cosine", "l2"})
    for (int64_t k : {1, 5, 40})
      for (double T : {0.07, 1.0}) {
        const auto pred = knn_predict(tr, ty, te, k, T, 3, metric);
        const auto ref = knn_reference(tr, ty, te, k, T, 3, metric);
        for (int64_t q = 0; q < te.size(0); ++q)
          EXPECT_EQ(pred[q].item<int64_t>(), ref[size_t(q)]) << metric << " k=" << k << " T=" << T << " q=" << q;
      }
}

TEST(Retrieval, HandMadeCase) {
  // Points on a line: 0, 1, 10, 11, 30 with labels a a b b a.
  auto x = torch::tensor({0.0f, 1.0f, 10.0f, 11.0f, 30.0f}).view({5, 1});
  auto y = torch::tensor(std::vector<int64_t>{0, 0, 1, 1, 0}, torch::kInt64);
  const auto r = recall_at_k(x, y, {1, 2, 4}, "l2");
  // Nearest other: 0->1 hit, 1->0 hit, 10->11 hit, 11->10 hit, 30->11 miss.
  EXPECT_DOUBLE_EQ(r.at(1), 4.0 / 5.0);
  // 30's two nearest: 11, 10 (both b): still a miss at k = 2; at k = 4 it reaches 1 and 0.
  EXPECT_DOUBLE_EQ(r.at(2), 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(r.at(4), 1.0);
}

TEST(Retrieval, MatchesBruteForceReference) {
  torch::Generator g = at::detail::createCPUGenerator(12);
  auto x = torch::randn({30, 4}, g);
  auto y = torch::randint(0, 4, {30}, g, torch::kInt64);
  for (const char* metric : {"cosine", "l2"}) {
    const auto r = recall_at_k(x, y, {1, 3, 5}, metric);
    const auto ref = recall_reference(x, y, {1, 3, 5}, metric);
    for (int64_t k : {1, 3, 5}) EXPECT_NEAR(r.at(k), ref.at(k), 1e-12) << metric << " k=" << k;
  }
}

TEST(Retrieval, PerClassAccuracy) {
  auto pred = torch::tensor(std::vector<int64_t>{0, 1, 1, 2, 0}, torch::kInt64);
  auto lab = torch::tensor(std::vector<int64_t>{0, 1, 0, 2, 0}, torch::kInt64);
  const auto acc = per_class_accuracy(pred, lab, 4);
  EXPECT_DOUBLE_EQ(acc[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(acc[1], 1.0);
  EXPECT_DOUBLE_EQ(acc[2], 1.0);
  EXPECT_TRUE(std::isnan(acc[3]));
}

TEST(Evaluate, SameSeedGivesBitIdenticalResults) {
  auto [xtr, ytr] = separable(30, 3, 8, 21);
  auto [xte, yte] = separable(10, 3, 8, 21);
  const Dataset tr = labelled(ytr, 3, "train"), te = labelled(yte, 3, "test");
  EvalConfig cfg;
  cfg.linear = "adam";  // linear_select applies to the Adam probe (sgd-grid: test_sgd_grid.cpp)
  cfg.linear_epochs = 3;
  cfg.knn_k = 5;
  for (const char* select : {"none", "val"})
    for (const char* metric : {"cosine", "l2"}) {
      cfg.linear_select = select;
      cfg.knn_metric = metric;
      const auto a = evaluate_features(xtr, tr, xte, te, cfg, 9).to_json();
      const auto b = evaluate_features(xtr, tr, xte, te, cfg, 9).to_json();
      auto strip = [](nlohmann::json j) {
        j.erase("seconds");
        return j;
      };
      EXPECT_EQ(strip(a).dump(), strip(b).dump()) << select << " " << metric;
      EXPECT_EQ(a["linear_select"], select);
      EXPECT_EQ(a["knn_metric"], metric);
      if (std::string(select) == "val") EXPECT_GE(a["linear_val_top1"].get<double>(), 0.0);
    }
}

TEST(Evaluate, SelectionKeysAreValidated) {
  Config c;
  c.set("eval.linear_select", "val");
  c.set("eval.linear_lr_grid", "0.01,abc");
  EXPECT_NE(test::error_of([&] { c.validate(); }).find("eval.linear_lr_grid"), std::string::npos);
  EXPECT_NE(test::error_of([&] { c.set("eval.linear_select", "cv"); }).find("eval.linear_select"), std::string::npos);
  EXPECT_NE(test::error_of([&] { c.set("eval.knn_metric", "dot"); }).find("eval.knn_metric"), std::string::npos);
  EXPECT_EQ(parse_number_list("k", " 1e-3, 0.1 "), (std::vector<double>{1e-3, 0.1}));
}

TEST(PeriodicKnn, DueAtTheEndOfEveryNthEpoch) {
  EvalConfig e;
  e.knn_every = 2;
  PeriodicKnn p(DataConfig{}, e);
  EXPECT_FALSE(p.due(5, 5));   // epoch 1 done
  EXPECT_TRUE(p.due(10, 5));   // epoch 2 done
  EXPECT_FALSE(p.due(11, 5));  // mid-epoch
  EXPECT_TRUE(p.due(20, 5));
  e.knn_every = 0;
  EXPECT_FALSE(PeriodicKnn(DataConfig{}, e).due(10, 5));
}

TEST(PeriodicKnn, EvaluatesTheBackboneWithoutChangingIt) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"));
  const Dataset tr = load_dataset(c.data, "train");
  Backbone backbone = make_backbone(c.model, 1);
  backbone->train();
  std::vector<torch::Tensor> before;
  for (auto& b : backbone->buffers()) before.push_back(b.clone());
  PeriodicKnn p(c.data, c.eval);
  const auto rec = p.run(backbone, tr, 4, 2);
  EXPECT_EQ(rec["event"], "knn");
  EXPECT_EQ(rec["epoch"], 2);
  EXPECT_GE(rec["knn_top1"].get<double>(), 0.0);
  EXPECT_LE(rec["knn_top1"].get<double>(), 100.0);
  EXPECT_TRUE(backbone->is_training());
  size_t i = 0;
  for (auto& b : backbone->buffers()) EXPECT_TRUE(torch::equal(b, before[i++])) << "BatchNorm statistics changed";
  // The same weights give the same accuracy.
  EXPECT_EQ(p.run(backbone, tr, 4, 2)["knn_top1"], rec["knn_top1"]);
}

TEST(Plot, LinePlotAndBarChartWriteDecodablePngsOfTheRequestedSize) {
  test::TempDir tmp;
  PlotOptions o;
  o.title = "loss";
  o.width = 500;
  o.height = 300;
  std::vector<PlotSeries> s = {{"plain", {0, 1, 2, 3}, {2.0, 1.5, 1.2, 1.0}}, {"GPS", {0, 1, 2, 3}, {2.1, 1.2, NAN, 0.7}}};
  save_line_plot(tmp.file("line.png"), s, o);
  cv::Mat img = cv::imread(tmp.file("line.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 500);
  EXPECT_EQ(img.rows, 300);
  // Something was drawn in the series colours (not only white and grey).
  EXPECT_LT(cv::mean(img)[0], 255.0);

  o.log_x = true;
  std::vector<PlotSeries> lr = {{"SimCLR", {0.01, 0.1, 1.0}, {50, 60, 55}}};
  const auto t = render_line_plot(lr, o);
  EXPECT_EQ(t.sizes(), (torch::IntArrayRef{3, 300, 500}));
  lr[0].x[0] = 0;
  EXPECT_NE(test::error_of([&] { render_line_plot(lr, o); }).find("log x"), std::string::npos);

  BarChart b;
  b.groups = {"SimCLR", "BYOL"};
  b.series = {"plain", "GPS"};
  b.values = {{10, 12}, {11, NAN}};
  b.errors = {{1, 0.5}, {NAN, NAN}};
  o.log_x = false;
  o.width = 640;
  save_bar_chart(tmp.file("bars.png"), b, o);
  img = cv::imread(tmp.file("bars.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 640);
  EXPECT_EQ(img.rows, 300);
  b.values[1].pop_back();
  EXPECT_NE(test::error_of([&] { render_bar_chart(b, o); }).find("series 'GPS'"), std::string::npos);
}

TEST(Plot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 6), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const auto t = nice_ticks(0.13, 0.87, 5);
  ASSERT_FALSE(t.empty());
  EXPECT_GE(t.front(), 0.13);
  EXPECT_LE(t.back(), 0.87);
  EXPECT_EQ(nice_ticks(3, 3, 5), (std::vector<double>{3}));
}

// The paper's linear evaluation (eval.linear=sgd-grid): an SGD classifier on
// the raw features over the classifier-lr grid, the lr chosen on a
// validation split of train, refit on all of train.
namespace {

// Gaussian features with labels from a noisy linear rule: not separable, so
// the probe's exact weights decide many predictions.
std::pair<torch::Tensor, torch::Tensor> noisy(int64_t n, int64_t d, int64_t classes, uint64_t seed) {
  torch::Generator g = at::detail::createCPUGenerator(seed);
  auto x = torch::randn({n, d}, g) * 2.0 + 0.5;
  auto w = torch::randn({d, classes}, g);
  auto y = (x.mm(w) + torch::randn({n, classes}, g) * 3.0).argmax(1);
  return {x, y};
}

}  // namespace

// Full-batch softmax regression written out: gradient X^T (softmax - onehot) / N,
// torch's momentum buffer (b = 0.9 b + g, b = g at the first step), the
// probe's cosine lr, in float64 on the raw (not standardised) features.
TEST(SgdProbe, MatchesMomentumSgdWrittenOut) {
  const int64_t N = 120, D = 6, C = 3, epochs = 5;
  auto [x, y] = noisy(N, D, C, 3);
  auto [xt, yt] = noisy(200, D, C, 4);
  LinearProbeOptions o;
  o.optimizer = "sgd";
  o.epochs = epochs;
  o.lr = 0.3;
  o.weight_decay = 0;
  o.batch_size = N;  // one full-batch step per epoch: the order does not matter
  o.seed = 11;
  const auto r = linear_probe(x, y, xt, yt, C, o);

  torch::Generator gen = at::detail::createCPUGenerator(o.seed);
  auto W = (torch::randn({D, C}, gen, torch::kFloat32) * (1.0 / std::sqrt(double(D)))).to(torch::kFloat64);
  auto b = torch::zeros({C}, torch::kFloat64);
  auto X = x.to(torch::kFloat64), onehot = torch::one_hot(y, C).to(torch::kFloat64);
  torch::Tensor mW, mb;
  for (int64_t step = 0; step < epochs; ++step) {
    const double lr = warmup_cosine(step, epochs, 0, o.lr, o.lr, 0.0);
    auto p = torch::softmax(X.mm(W) + b, 1);
    auto gW = X.t().mm(p - onehot) / double(N), gb = (p - onehot).sum(0) / double(N);
    mW = step == 0 ? gW : mW * 0.9 + gW;
    mb = step == 0 ? gb : mb * 0.9 + gb;
    W = W - lr * mW;
    b = b - lr * mb;
  }
  const auto pred = (xt.to(torch::kFloat64).mm(W) + b).argmax(1);
  const double agree = pred.eq(r.test_pred).to(torch::kFloat64).mean().item<double>();
  EXPECT_EQ(agree, 1.0);
  EXPECT_NEAR(r.test_accuracy, pred.eq(yt).to(torch::kFloat64).mean().item<double>(), 1e-12);

  // Adam standardises, SGD does not: scaling the features by 100 changes SGD's
  // classifier, not Adam's.
  LinearProbeOptions a = o;
  a.optimizer = "adam";
  const auto a1 = linear_probe(x, y, xt, yt, C, a), a100 = linear_probe(x * 100, y, xt * 100, yt, C, a);
  EXPECT_NEAR(a1.test_accuracy, a100.test_accuracy, 0.02);
  const auto s100 = linear_probe(x * 100, y, xt * 100, yt, C, o);
  EXPECT_FALSE(torch::equal(s100.test_pred, r.test_pred));
}

TEST(SgdProbe, SgdGridSelectsTheLrOnValidationAndRefits) {
  auto [x, y] = noisy(400, 8, 4, 5);
  auto [xt, yt] = noisy(300, 8, 4, 6);
  const Dataset tr = labelled(y, 4, "train"), te = labelled(yt, 4, "test");
  EvalConfig cfg;
  ASSERT_EQ(cfg.linear, "sgd-grid");  // the default: the paper's protocol
  cfg.linear_epochs = 4;
  cfg.knn_k = 5;
  const auto r = evaluate_features(x, tr, xt, te, cfg, 7);
  EXPECT_EQ(r.linear, "sgd-grid");
  EXPECT_EQ(r.linear_select, "val");
  EXPECT_EQ(r.linear_weight_decay, 0.0);

  // The same selection by hand: every lr of the paper's grid on the fit rows,
  // the best on validation (first on ties), refit on all of train.
  LinearSelectOptions so;
  so.base.optimizer = "sgd";
  so.base.epochs = cfg.linear_epochs;
  so.base.batch_size = cfg.linear_batch_size;
  so.base.seed = 7;
  so.lrs = {0.03, 0.01, 0.3, 0.1, 1, 3};
  so.weight_decays = {0.0};
  so.val_fraction = cfg.val_fraction;
  const auto sel = linear_probe_select(x, y, xt, yt, 4, so);
  ASSERT_EQ(sel.grid_val_accuracy.size(), 6u);
  size_t best = 0;
  for (size_t i = 1; i < 6; ++i)
    if (sel.grid_val_accuracy[i] > sel.grid_val_accuracy[best]) best = i;
  EXPECT_EQ(r.linear_lr, so.lrs[best]);
  EXPECT_DOUBLE_EQ(r.linear_val_top1, 100.0 * sel.grid_val_accuracy[best]);
  EXPECT_DOUBLE_EQ(r.linear_top1, 100.0 * sel.refit.test_accuracy);
  // The test split never enters the choice: other test labels, same lr.
  const Dataset te2 = labelled(yt.flip({0}), 4, "test");
  EXPECT_EQ(evaluate_features(x, tr, xt, te2, cfg, 7).linear_lr, r.linear_lr);

  // adam keeps the earlier probe: no selection unless linear_select=val.
  cfg.linear = "adam";
  const auto a = evaluate_features(x, tr, xt, te, cfg, 7);
  EXPECT_EQ(a.linear, "adam");
  EXPECT_EQ(a.linear_select, "none");
  EXPECT_EQ(a.linear_lr, cfg.linear_lr);
}

TEST(SgdProbe, KeysAreValidated) {
  Config c;
  EXPECT_NE(test::error_of([&] { c.set("eval.linear", "lbfgs"); }).find("eval.linear"), std::string::npos);
  c.set("eval.sgd_lr_grid", "0.1,x");
  EXPECT_NE(test::error_of([&] { c.validate(); }).find("eval.sgd_lr_grid"), std::string::npos);
  c.set("eval.linear", "adam");
  c.validate();  // the grid is not read by the Adam probe
  // Old summaries (before eval.linear) read as the Adam probe.
  const auto r = EvalResult::from_json({{"linear_top1", 50.0}}, "summary.json");
  EXPECT_EQ(r.linear, "adam");
}
