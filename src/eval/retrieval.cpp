#include "gps/eval/retrieval.h"

#include "gps/core/check.h"

#include <algorithm>
#include <cmath>

namespace gps {

std::map<int64_t, double> recall_at_k(const torch::Tensor& x_in, const torch::Tensor& labels,
                                      const std::vector<int64_t>& ks, const std::string& metric) {
  GPS_CHECK(x_in.dim() == 2, "recall_at_k: features must be [N, D], got ", x_in.sizes());
  GPS_CHECK(labels.dim() == 1 && labels.size(0) == x_in.size(0), "recall_at_k: labels must be [", x_in.size(0), "]");
  GPS_CHECK(metric == "cosine" || metric == "l2", "recall_at_k: metric must be cosine or l2, got ", metric);
  const int64_t n = x_in.size(0);
  GPS_CHECK(n >= 2, "recall_at_k: needs at least 2 images");
  int64_t kmax = 0;
  for (auto k : ks) {
    GPS_CHECK(k >= 1, "recall_at_k: k must be >= 1");
    kmax = std::max(kmax, k);
  }
  kmax = std::min(kmax, n - 1);
  auto x = x_in.to(torch::kFloat32);
  if (metric == "cosine") x = torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto sq = x.pow(2).sum(1);
  std::vector<int64_t> first_hit(n, INT64_MAX);  // rank (1-based) of the first same-label neighbour
  const int64_t chunk = 1024;
  const auto labels_cpu = labels.to(torch::kCPU, torch::kInt64).contiguous();
  auto lab = labels_cpu.accessor<int64_t, 1>();
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t m = std::min(chunk, n - s);
    auto q = x.narrow(0, s, m);
    // Score = similarity (higher is nearer); for l2, minus squared distance.
    auto score = metric == "cosine" ? q.mm(x.t()) : -(sq.narrow(0, s, m).unsqueeze(1) + sq.unsqueeze(0) - 2 * q.mm(x.t()));
    score = score.to(torch::kFloat64);
    score.narrow(1, s, m).diagonal().fill_(-INFINITY);  // leave one out
    auto order = std::get<1>(score.topk(kmax, 1, /*largest=*/true, /*sorted=*/true)).to(torch::kCPU).contiguous();
    auto o = order.accessor<int64_t, 2>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < kmax; ++r)
        if (lab[o[i][r]] == lab[s + i]) {
          first_hit[s + i] = r + 1;
          break;
        }
  }
  std::map<int64_t, double> out;
  for (auto k : ks) {
    int64_t hits = 0;
    for (auto h : first_hit) hits += h <= k;
    out[k] = double(hits) / double(n);
  }
  return out;
}

std::vector<double> per_class_accuracy(const torch::Tensor& pred, const torch::Tensor& labels, int64_t num_classes) {
  GPS_CHECK(pred.sizes() == labels.sizes() && pred.dim() == 1, "per_class_accuracy: pred and labels must be [N]");
  std::vector<double> correct(num_classes, 0), total(num_classes, 0);
  auto p = pred.to(torch::kCPU, torch::kInt64).contiguous(), l = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const auto* pp = p.data_ptr<int64_t>();
  const auto* lp = l.data_ptr<int64_t>();
  for (int64_t i = 0; i < p.numel(); ++i) {
    GPS_CHECK(lp[i] >= 0 && lp[i] < num_classes, "per_class_accuracy: label ", lp[i], " out of range");
    total[lp[i]] += 1;
    correct[lp[i]] += pp[i] == lp[i];
  }
  std::vector<double> acc(num_classes);
  for (int64_t c = 0; c < num_classes; ++c) acc[c] = total[c] > 0 ? correct[c] / total[c] : std::nan("");
  return acc;
}

}  // namespace gps
