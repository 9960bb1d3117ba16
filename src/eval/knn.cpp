#include "gps/eval/knn.h"

#include "gps/core/check.h"

namespace gps {

namespace F = torch::nn::functional;

torch::Tensor knn_predict(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                          int64_t k, double temperature, int64_t num_classes, const std::string& metric) {
  GPS_CHECK(train_x.dim() == 2 && test_x.dim() == 2 && train_x.size(1) == test_x.size(1),
            "knn: features must be [N, D] and [M, D] with equal D");
  GPS_CHECK(train_y.dim() == 1 && train_y.size(0) == train_x.size(0), "knn: train_y must be [N]");
  GPS_CHECK(k >= 1, "eval.knn_k must be >= 1");
  GPS_CHECK(metric == "cosine" || metric == "l2", "eval.knn_metric must be cosine or l2, got '", metric, "'");
  GPS_CHECK(temperature > 0, "eval.knn_temperature must be > 0, got ", temperature);
  k = std::min<int64_t>(k, train_x.size(0));
  const bool cosine = metric == "cosine";
  auto tr = train_x.to(torch::kFloat32), te = test_x.to(torch::kFloat32);
  const auto ytr = train_y.to(tr.device());
  if (cosine) {
    tr = F::normalize(tr, F::NormalizeFuncOptions().dim(1));
    te = F::normalize(te, F::NormalizeFuncOptions().dim(1));
  }
  const auto tr_sq = cosine ? torch::Tensor() : tr.pow(2).sum(1);
  std::vector<torch::Tensor> preds;
  const int64_t chunk = 1024;
  for (int64_t s = 0; s < te.size(0); s += chunk) {
    auto q = te.narrow(0, s, std::min(chunk, te.size(0) - s));
    auto sim = q.mm(tr.t());                      // [m, N]
    if (!cosine) sim = 2 * sim - tr_sq.unsqueeze(0) - q.pow(2).sum(1, true);  // -|q - x|^2
    auto top = sim.topk(k, 1, true, true);
    auto top_s = std::get<0>(top);                // [m, k], sorted: column 0 is the nearest
    if (!cosine) top_s = top_s - top_s.narrow(1, 0, 1);
    auto w = (top_s / temperature).exp();
    auto cls = ytr.index_select(0, std::get<1>(top).flatten()).view({-1, k});
    auto scores = torch::zeros({q.size(0), num_classes}, te.options());
    scores.scatter_add_(1, cls, w);
    preds.push_back(scores.argmax(1));
  }
  return torch::cat(preds, 0);
}

double knn_accuracy(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                    const torch::Tensor& test_y, int64_t k, double temperature, int64_t num_classes,
                    const std::string& metric) {
  auto pred = knn_predict(train_x, train_y, test_x, k, temperature, num_classes, metric);
  return pred.eq(test_y.to(pred.device())).to(torch::kFloat64).mean().item<double>();
}

}  // namespace gps
