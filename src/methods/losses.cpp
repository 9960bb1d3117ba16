#include "gps/methods/losses.h"

#include "gps/core/check.h"
#include "gps/core/precision.h"

namespace gps {

namespace F = torch::nn::functional;

// Every loss computes in float32 outside autocast (train.precision=bf16 runs
// only the network in bf16): Float32Scope, and inputs cast with to_float32.

torch::Tensor nt_xent_indexed(const torch::Tensor& z_in, const torch::Tensor& indexes, double temperature) {
  Float32Scope fp32;
  const auto z = to_float32(z_in);
  GPS_CHECK(z.dim() == 2, "nt_xent: z must be [M, D], got ", z.sizes());
  GPS_CHECK(indexes.dim() == 1 && indexes.size(0) == z.size(0), "nt_xent: indexes must be [", z.size(0), "]");
  GPS_CHECK(temperature > 0, "nt_xent: temperature must be > 0");
  const int64_t M = z.size(0);
  auto zn = F::normalize(z, F::NormalizeFuncOptions().dim(1));
  auto logits = zn.mm(zn.t()) / temperature;  // [M, M]
  auto idx = indexes.to(z.device());
  auto eye = torch::eye(M, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
  auto pos_mask = idx.unsqueeze(0).eq(idx.unsqueeze(1)).logical_and(eye.logical_not());
  // Row-wise log-sum-exp with the diagonal removed, stable for small T.
  auto masked = logits.masked_fill(eye, -std::numeric_limits<double>::infinity());
  auto log_all = torch::logsumexp(masked, 1);
  auto log_pos = torch::logsumexp(masked.masked_fill(pos_mask.logical_not(), -std::numeric_limits<double>::infinity()), 1);
  auto has_pos = pos_mask.any(1);
  // Only the host check below reads the device, and only on the CPU, where
  // that costs nothing; on a GPU a batch without any positive gives NaN
  // (0 / 0), which the trainer's non-finite guard reports.
  if (z.device().is_cpu()) GPS_CHECK(has_pos.any().item<bool>(), "nt_xent: no row has a positive");
  // The mean over rows with a positive, without masked_select (its output
  // size is a host wait): the same sum in the same order, divided by the
  // same count.
  auto per_row = torch::where(has_pos, log_all - log_pos, torch::zeros({}, log_all.options()));
  return per_row.sum() / has_pos.sum().to(per_row.scalar_type());
}

torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  GPS_CHECK(z1.sizes() == z2.sizes() && z1.dim() == 2, "nt_xent: z1 and z2 must both be [N, D], got ", z1.sizes(),
            " and ", z2.sizes());
  const int64_t N = z1.size(0);
  auto idx = torch::arange(N, torch::TensorOptions().dtype(torch::kInt64).device(z1.device()));
  return nt_xent_indexed(torch::cat({z1, z2}, 0), torch::cat({idx, idx}, 0), temperature);
}

namespace {

void check_pair(const char* what, const torch::Tensor& a, const torch::Tensor& b, int64_t min_rows) {
  GPS_CHECK(a.dim() == 2 && a.sizes() == b.sizes(), what, ": inputs must both be [N, D], got ", a.sizes(), " and ",
            b.sizes());
  GPS_CHECK(a.size(0) >= min_rows, what, ": needs at least ", min_rows, " rows, got ", a.size(0));
  GPS_CHECK(a.scalar_type() == b.scalar_type() && a.device() == b.device(), what,
            ": inputs must share dtype and device");
}

// The sum of the off-diagonal entries of square matrix m, without
// masked_select (whose output size is a host wait on a GPU).
torch::Tensor off_diagonal_sum(const torch::Tensor& m) {
  auto off = torch::eye(m.size(0), torch::TensorOptions().dtype(torch::kBool).device(m.device())).logical_not();
  return torch::where(off, m, torch::zeros({}, m.options())).sum();
}

}  // namespace

torch::Tensor byol_loss(const torch::Tensor& p_in, const torch::Tensor& z_in) {
  Float32Scope fp32;
  const auto p = to_float32(p_in), z = to_float32(z_in);
  check_pair("byol_loss", p, z, 1);
  auto cos = F::cosine_similarity(p, z.detach(), F::CosineSimilarityFuncOptions().dim(1));
  return 2.0 - 2.0 * cos.mean();
}

torch::Tensor mocov3_loss(const torch::Tensor& q_in, const torch::Tensor& k_in, double temperature) {
  Float32Scope fp32;
  const auto q = to_float32(q_in), k = to_float32(k_in);
  check_pair("mocov3_loss", q, k, 1);
  GPS_CHECK(temperature > 0, "mocov3_loss: temperature must be > 0");
  auto a = F::normalize(q, F::NormalizeFuncOptions().dim(1));
  auto b = F::normalize(k.detach(), F::NormalizeFuncOptions().dim(1));
  auto logits = a.mm(b.t()) / temperature;
  auto labels = torch::arange(q.size(0), torch::TensorOptions().dtype(torch::kInt64).device(q.device()));
  return F::cross_entropy(logits, labels) * (2.0 * temperature);
}

namespace {

// The cross-entropy of DINO and SwAV: targets[g] (of global view g, no
// gradient) against softmax(views[v] / temperature) for every v != g,
// averaged over rows and over those pairs.
torch::Tensor swapped_cross_entropy(const char* what, const std::vector<torch::Tensor>& targets,
                                    const std::vector<torch::Tensor>& views, double temperature) {
  GPS_CHECK(!targets.empty() && views.size() >= targets.size() && views.size() >= 2, what,
            ": needs the scores of every view (>= 2) and the targets of the global views, got ", views.size(),
            " and ", targets.size());
  GPS_CHECK(temperature > 0, what, ": temperatures must be > 0");
  torch::Tensor total;
  int64_t terms = 0;
  for (size_t g = 0; g < targets.size(); ++g)
    for (size_t v = 0; v < views.size(); ++v) {
      if (v == g) continue;  // not the view the target came from
      check_pair(what, targets[g], to_float32(views[v]), 1);
      const auto log_p = F::log_softmax(to_float32(views[v]) / temperature, F::LogSoftmaxFuncOptions(1));
      const auto term = -(targets[g] * log_p).sum(1).mean();
      total = total.defined() ? total + term : term;
      ++terms;
    }
  return total / double(terms);
}

}  // namespace

torch::Tensor dino_loss(const std::vector<torch::Tensor>& student, const std::vector<torch::Tensor>& teacher,
                        const torch::Tensor& center, double student_temp, double teacher_temp) {
  Float32Scope fp32;
  GPS_CHECK(teacher_temp > 0, "dino_loss: temperatures must be > 0");
  std::vector<torch::Tensor> targets;
  for (const auto& t : teacher)
    targets.push_back(F::softmax((to_float32(t).detach() - center.detach()) / teacher_temp, F::SoftmaxFuncOptions(1)));
  return swapped_cross_entropy("dino_loss", targets, student, student_temp);
}

torch::Tensor sinkhorn_knopp(const torch::Tensor& scores_in, double epsilon, int64_t iters) {
  Float32Scope fp32;
  torch::NoGradGuard no_grad;
  GPS_CHECK(scores_in.dim() == 2 && scores_in.size(0) > 0 && scores_in.size(1) > 0,
            "sinkhorn_knopp: scores must be [N, K] with N, K > 0, got ", scores_in.sizes());
  GPS_CHECK(epsilon > 0 && iters >= 1, "sinkhorn_knopp: epsilon must be > 0 and iters >= 1, got ", epsilon, ", ",
            iters);
  const auto scores = to_float32(scores_in.detach());
  const double N = double(scores.size(0)), K = double(scores.size(1));
  // exp((s - max) / eps): the constant factor exp(-max / eps) cancels in the
  // first normalisation and keeps exp finite for any eps.
  auto Q = ((scores - scores.max()) / epsilon).exp().t();  // [K, N]
  Q = Q / Q.sum();
  for (int64_t it = 0; it < iters; ++it) {
    Q = Q / Q.sum(1, true) / K;  // each prototype: total weight 1/K
    Q = Q / Q.sum(0, true) / N;  // each sample: total weight 1/N
  }
  return (Q * N).t();
}

torch::Tensor swav_loss(const std::vector<torch::Tensor>& preds, const std::vector<torch::Tensor>& codes,
                        double temperature) {
  Float32Scope fp32;
  std::vector<torch::Tensor> targets;
  for (const auto& q : codes) targets.push_back(to_float32(q).detach());
  return swapped_cross_entropy("swav_loss", targets, preds, temperature);
}

torch::Tensor simsiam_loss(const torch::Tensor& p_in, const torch::Tensor& z_in) {
  Float32Scope fp32;
  const auto p = to_float32(p_in), z = to_float32(z_in);
  check_pair("simsiam_loss", p, z, 1);
  return -F::cosine_similarity(p, z.detach(), F::CosineSimilarityFuncOptions().dim(1)).mean();
}

torch::Tensor nnclr_loss(const torch::Tensor& nn_in, const torch::Tensor& p_in, double temperature) {
  Float32Scope fp32;
  const auto nn = to_float32(nn_in), p = to_float32(p_in);
  check_pair("nnclr_loss", nn, p, 1);
  GPS_CHECK(temperature > 0, "nnclr_loss: temperature must be > 0");
  auto a = F::normalize(nn, F::NormalizeFuncOptions().dim(1));
  auto b = F::normalize(p, F::NormalizeFuncOptions().dim(1));
  auto logits = a.mm(b.t()) / temperature;
  auto labels = torch::arange(nn.size(0), torch::TensorOptions().dtype(torch::kInt64).device(nn.device()));
  return F::cross_entropy(logits, labels);
}

BarlowTwinsLoss barlow_twins_loss(const torch::Tensor& z1_in, const torch::Tensor& z2_in, double lambda,
                                  double scale) {
  Float32Scope fp32;
  const auto z1 = to_float32(z1_in), z2 = to_float32(z2_in);
  check_pair("barlow_twins_loss", z1, z2, 2);
  constexpr double kBatchNormEps = 1e-5;  // torch.nn.BatchNorm1d default
  auto standardise = [&](const torch::Tensor& z) {
    auto var = z.var(0, /*unbiased=*/false, /*keepdim=*/true);
    return (z - z.mean(0, true)) / torch::sqrt(var + kBatchNormEps);
  };
  const int64_t N = z1.size(0);
  auto c = standardise(z1).t().mm(standardise(z2)) / double(N);  // [D, D]
  BarlowTwinsLoss out;
  out.on_diag = (1.0 - c.diagonal()).pow(2).sum();
  out.off_diag = off_diagonal_sum(c.pow(2));
  out.loss = scale * (out.on_diag + lambda * out.off_diag);
  return out;
}

VICRegLoss vicreg_loss(const torch::Tensor& z1_in, const torch::Tensor& z2_in, double sim_weight, double var_weight,
                       double cov_weight, double eps, bool mean_variance) {
  Float32Scope fp32;
  const auto z1 = to_float32(z1_in), z2 = to_float32(z2_in);
  check_pair("vicreg_loss", z1, z2, 2);
  const int64_t N = z1.size(0), D = z1.size(1);
  auto variance = [&](const torch::Tensor& z) {
    auto std = torch::sqrt(z.var(0, /*unbiased=*/true) + eps);
    return torch::relu(1.0 - std).mean();
  };
  auto covariance = [&](const torch::Tensor& z) {
    auto c = z - z.mean(0, true);
    auto cov = c.t().mm(c) / double(N - 1);
    return off_diagonal_sum(cov.pow(2)) / double(D);
  };
  VICRegLoss out;
  out.invariance = F::mse_loss(z1, z2);
  out.variance = mean_variance ? (variance(z1) + variance(z2)) * 0.5 : variance(z1) + variance(z2);
  out.covariance = covariance(z1) + covariance(z2);
  out.loss = sim_weight * out.invariance + var_weight * out.variance + cov_weight * out.covariance;
  return out;
}

}  // namespace gps
