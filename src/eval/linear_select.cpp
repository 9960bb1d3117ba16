#include "gps/eval/linear_select.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"

#include <algorithm>
#include <cmath>

namespace gps {

std::pair<torch::Tensor, torch::Tensor> stratified_val_split(const torch::Tensor& labels, double val_fraction,
                                                             uint64_t seed) {
  GPS_CHECK(labels.dim() == 1, "stratified_val_split: labels must be [N], got ", labels.sizes());
  GPS_CHECK(val_fraction > 0 && val_fraction < 1, "eval.val_fraction must be in (0, 1), got ", val_fraction);
  auto lab = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t n = lab.size(0);
  const int64_t* l = lab.data_ptr<int64_t>();
  int64_t classes = 0;
  for (int64_t i = 0; i < n; ++i) {
    GPS_CHECK(l[i] >= 0, "stratified_val_split: negative label ", l[i], " at row ", i);
    classes = std::max(classes, l[i] + 1);
  }
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(classes));
  for (int64_t i = 0; i < n; ++i) rows[size_t(l[i])].push_back(i);
  std::vector<int64_t> fit, val;
  for (int64_t c = 0; c < classes; ++c) {
    auto& r = rows[size_t(c)];
    const int64_t m = int64_t(r.size());
    if (m < 2) {  // a class of one row cannot be both fitted and validated: fit only
      fit.insert(fit.end(), r.begin(), r.end());
      continue;
    }
    Rng rng(seed, 0x7a1d, uint64_t(c));
    for (int64_t i = m - 1; i > 0; --i) std::swap(r[size_t(i)], r[size_t(rng.below(uint64_t(i) + 1))]);
    const int64_t nv = std::clamp<int64_t>(int64_t(std::llround(double(m) * val_fraction)), 1, m - 1);
    val.insert(val.end(), r.begin(), r.begin() + nv);
    fit.insert(fit.end(), r.begin() + nv, r.end());
  }
  GPS_CHECK(!val.empty(), "eval.linear_select=val: no class has the 2 rows needed to hold one out for validation");
  std::sort(fit.begin(), fit.end());
  std::sort(val.begin(), val.end());
  return {torch::tensor(fit, torch::kInt64), torch::tensor(val, torch::kInt64)};
}

LinearSelectResult linear_probe_select(const torch::Tensor& train_x, const torch::Tensor& train_y,
                                       const torch::Tensor& test_x, const torch::Tensor& test_y, int64_t num_classes,
                                       const LinearSelectOptions& opt) {
  GPS_CHECK(!opt.lrs.empty() && !opt.weight_decays.empty(),
            "linear probe selection needs at least one lr (eval.linear_lr_grid) and one weight decay "
            "(eval.linear_wd_grid)");
  GPS_CHECK(train_y.dim() == 1 && train_y.size(0) == train_x.size(0),
            "linear_probe_select: one label per train row expected");
  const auto [fit, val] = stratified_val_split(train_y, opt.val_fraction, opt.base.seed);
  const auto on = [](const torch::Tensor& rows, const torch::Tensor& t) { return rows.to(t.device()); };
  const auto fit_x = train_x.index_select(0, on(fit, train_x)), fit_y = train_y.index_select(0, on(fit, train_y));
  const auto val_x = train_x.index_select(0, on(val, train_x)), val_y = train_y.index_select(0, on(val, train_y));
  LinearSelectResult r;
  r.fit_rows = fit.size(0);
  r.val_rows = val.size(0);
  double best = -1;
  for (double lr : opt.lrs)
    for (double wd : opt.weight_decays) {
      LinearProbeOptions o = opt.base;
      o.lr = lr;
      o.weight_decay = wd;
      const double acc = linear_probe(fit_x, fit_y, val_x, val_y, num_classes, o).test_accuracy;
      r.grid_val_accuracy.push_back(acc);
      if (acc > best) best = acc, r.lr = lr, r.weight_decay = wd;
    }
  r.val_accuracy = best;
  LinearProbeOptions o = opt.base;
  o.lr = r.lr;
  o.weight_decay = r.weight_decay;
  r.refit = linear_probe(train_x, train_y, test_x, test_y, num_classes, o);
  return r;
}

}  // namespace gps
