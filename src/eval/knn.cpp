#include "gps/eval/knn.h"

#include "gps/core/check.h"

namespace gps {

namespace F = torch::nn::functional;

torch::Tensor knn_predict(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                          int64_t k, double temperature, int64_t num_classes) {
  GPS_CHECK(train_x.dim() == 2 && test_x.dim() == 2 && train_x.size(1) == test_x.size(1),
            "knn: features must be [N, D] and [M, D] with equal D");
  GPS_CHECK(train_y.dim() == 1 && train_y.size(0) == train_x.size(0), "knn: train_y must be [N]");
  GPS_CHECK(k >= 1, "eval.knn_k must be >= 1");
  k = std::min<int64_t>(k, train_x.size(0));
  auto tr = F::normalize(train_x.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
  auto te = F::normalize(test_x.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
  std::vector<torch::Tensor> preds;
  const int64_t chunk = 1024;
  for (int64_t s = 0; s < te.size(0); s += chunk) {
    auto q = te.narrow(0, s, std::min(chunk, te.size(0) - s));
    auto sim = q.mm(tr.t());                      // [m, N]
    auto top = sim.topk(k, 1, true, true);
    auto w = (std::get<0>(top) / temperature).exp();  // [m, k]
    auto cls = train_y.index_select(0, std::get<1>(top).flatten()).view({-1, k});
    auto scores = torch::zeros({q.size(0), num_classes}, torch::kFloat32);
    scores.scatter_add_(1, cls, w);
    preds.push_back(scores.argmax(1));
  }
  return torch::cat(preds, 0);
}

double knn_accuracy(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                    const torch::Tensor& test_y, int64_t k, double temperature, int64_t num_classes) {
  auto pred = knn_predict(train_x, train_y, test_x, k, temperature, num_classes);
  return pred.eq(test_y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace gps
