#include "gps/eval/linear_probe.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/optim/schedule.h"

namespace gps {

LinearProbeResult linear_probe(const torch::Tensor& train_x, const torch::Tensor& train_y,
                               const torch::Tensor& test_x, const torch::Tensor& test_y, int64_t num_classes,
                               const LinearProbeOptions& opt) {
  GPS_CHECK(train_x.dim() == 2 && test_x.dim() == 2 && train_x.size(1) == test_x.size(1),
            "linear_probe: features must be [N, D] and [M, D] with equal D, got ", train_x.sizes(), " and ",
            test_x.sizes());
  GPS_CHECK(train_y.size(0) == train_x.size(0) && test_y.size(0) == test_x.size(0),
            "linear_probe: one label per feature row expected");
  GPS_CHECK(num_classes >= 2, "linear_probe: needs at least 2 classes");
  GPS_CHECK(opt.optimizer == "adam" || opt.optimizer == "sgd", "linear_probe: optimizer must be adam or sgd, got '",
            opt.optimizer, "'");
  const bool sgd = opt.optimizer == "sgd";
  torch::NoGradGuard outer_no_grad;
  const auto device = train_x.device();  // the probe trains where the features are
  const auto ytr = train_y.to(device), yte = test_y.to(device);
  auto mean = sgd ? torch::zeros_like(train_x.narrow(0, 0, 1)) : train_x.mean(0, true);
  auto std = sgd ? torch::ones_like(mean) : train_x.std(0, /*unbiased=*/false, true).clamp_min(1e-6);
  auto xtr = ((train_x - mean) / std).to(torch::kFloat32).contiguous();
  auto xte = ((test_x - mean) / std).to(torch::kFloat32).contiguous();
  const int64_t N = xtr.size(0), D = xtr.size(1);
  const int64_t bs = std::min(opt.batch_size, N);
  const int64_t steps_per_epoch = (N + bs - 1) / bs;
  const int64_t total = steps_per_epoch * opt.epochs;

  torch::Generator gen = at::detail::createCPUGenerator(opt.seed);
  // Drawn on the CPU: the same initial probe on every device.
  auto W = (torch::randn({D, num_classes}, gen, torch::kFloat32) * (1.0 / std::sqrt(double(D))))
               .to(device)
               .requires_grad_(true);
  auto b = torch::zeros({num_classes}, torch::TensorOptions().dtype(torch::kFloat32).device(device)).requires_grad_(true);
  std::unique_ptr<torch::optim::Optimizer> optim;
  if (sgd)
    optim = std::make_unique<torch::optim::SGD>(
        std::vector<torch::Tensor>{W, b}, torch::optim::SGDOptions(opt.lr).momentum(0.9).weight_decay(opt.weight_decay));
  else
    optim = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{W, b},
                                                 torch::optim::AdamOptions(opt.lr).weight_decay(opt.weight_decay));

  int64_t step = 0;
  std::vector<int64_t> perm(N);
  for (int64_t e = 0; e < opt.epochs; ++e) {
    for (int64_t i = 0; i < N; ++i) perm[i] = i;
    Rng rng(opt.seed, 0x11ea7, uint64_t(e));
    for (int64_t i = N - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(uint64_t(i) + 1)]);
    auto order = torch::tensor(perm, torch::kInt64).to(device);
    for (int64_t s = 0; s < N; s += bs, ++step) {
      auto idx = order.narrow(0, s, std::min(bs, N - s));
      const double lr = warmup_cosine(step, total, 0, opt.lr, opt.lr, 0.0);
      for (auto& g : optim->param_groups()) g.options().set_lr(lr);
      torch::AutoGradMode grad(true);
      auto logits = xtr.index_select(0, idx).mm(W) + b;
      auto loss = torch::nn::functional::cross_entropy(logits, ytr.index_select(0, idx));
      optim->zero_grad();
      loss.backward();
      optim->step();
    }
  }
  LinearProbeResult r;
  auto acc = [&](const torch::Tensor& x, const torch::Tensor& y) {
    return (x.mm(W) + b).argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
  };
  r.train_accuracy = acc(xtr, ytr);
  r.test_accuracy = acc(xte, yte);
  r.test_pred = (xte.mm(W) + b).argmax(1).to(torch::kCPU);
  return r;
}

}  // namespace gps
