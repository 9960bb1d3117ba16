#include "gps/distributed/sync_batch_norm.h"

#include "gps/core/check.h"
#include "gps/core/precision.h"
#include "gps/distributed/process_group.h"

namespace gps {

namespace {

// Training-mode batch norm over the rows of every rank. Two differentiable
// all-reduces (sum, then the sum of squared deviations from the global mean)
// rather than one of sum and sum of squares: the two-pass variance does not
// cancel catastrophically, and the result matches torch's kernel to float
// rounding. The gradient flows through both sums (dist::all_reduce_sum), so
// it equals the one-process gradient of batch norm on the global batch.
torch::Tensor synced(const torch::Tensor& x_in, const torch::Tensor& weight, const torch::Tensor& bias,
                     torch::Tensor& running_mean, torch::Tensor& running_var, torch::Tensor& batches,
                     const torch::nn::BatchNormOptions& o) {
  const auto x = to_float32(x_in);  // bf16 activations: the statistics in float32
  GPS_CHECK(x.dim() >= 2 && x.size(1) == o.num_features(), "batch norm: expected [N, ", o.num_features(),
            ", ...], got ", x.sizes());
  const int64_t C = x.size(1);
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  std::vector<int64_t> shape(size_t(x.dim()), 1);
  shape[1] = C;
  const double local_count = double(x.numel() / std::max<int64_t>(C, 1));
  // As torch's SyncBatchNorm: one value per channel is an error only when it
  // is the only one over all processes (checked on the host, no wait).
  GPS_CHECK(local_count > 1 || dist::active_group()->world() > 1,
            "batch norm: needs more than one value per channel, got ", local_count);
  // The global row count travels with the sums (shards could differ in
  // size), and stays on the device: reading it would make the host wait for
  // the all-reduce in every forward.
  auto sums = dist::all_reduce_sum(torch::cat({x.sum(dims), torch::full({1}, local_count, x.options())}));
  const auto count = sums.narrow(0, C, 1);
  auto mean = sums.narrow(0, 0, C) / count;
  auto centred = x - mean.view(shape);
  auto var = dist::all_reduce_sum(centred.pow(2).sum(dims)) / count;  // biased, as torch normalises
  auto y = centred * torch::rsqrt(var + o.eps()).view(shape);
  if (o.affine()) y = y * weight.view(shape) + bias.view(shape);
  if (o.track_running_stats()) {
    torch::NoGradGuard no_grad;
    batches += 1;
    const auto unbiased = var.detach() * (count / (count - 1));  // as torch stores it
    if (o.momentum()) {
      const double m = *o.momentum();
      running_mean.mul_(1 - m).add_(mean.detach(), m);
      running_var.mul_(1 - m).add_(unbiased, m);
    } else {  // torch: a cumulative average when momentum is unset; the rate stays on the device
      const auto m = 1.0 / batches.to(running_mean.scalar_type());
      running_mean.mul_(1 - m).add_(mean.detach() * m);
      running_var.mul_(1 - m).add_(unbiased * m);
    }
  }
  return y;
}

bool synchronised(bool training) {
  return training && dist::active_group() != nullptr && dist::active_group()->world() > 1;
}

template <typename BN>
torch::Tensor dispatch(BN& bn, const torch::Tensor& x) {
  if (!synchronised(bn.is_training())) return bn.BN::forward(x);
  return synced(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, bn.num_batches_tracked, bn.options);
}

}  // namespace

SyncBatchNormImpl::SyncBatchNormImpl(const torch::nn::BatchNormOptions& options_) : options(options_) { reset(); }

void SyncBatchNormImpl::reset() {
  const int64_t c = options.num_features();
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({c}));
    bias = register_parameter("bias", torch::zeros({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({c}));
    running_var = register_buffer("running_var", torch::ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  }
}

void SyncBatchNormImpl::pretty_print(std::ostream& os) const {
  os << "gps::SyncBatchNorm(" << options.num_features() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum()) os << *options.momentum();
  else os << "None";
  os << ", affine=" << (options.affine() ? "true" : "false")
     << ", track_running_stats=" << (options.track_running_stats() ? "true" : "false") << ")";
}

torch::Tensor SyncBatchNormImpl::forward(const torch::Tensor& x) {
  if (synchronised(is_training()))
    return synced(x, weight, bias, running_mean, running_var, num_batches_tracked, options);
  // torch's BatchNorm forward, step for step (same kernel, same buffers).
  double factor = options.momentum() ? *options.momentum() : 0.0;
  if (is_training() && options.track_running_stats()) {
    num_batches_tracked += 1;
    // Momentum unset (never in gps's models): torch's cumulative average,
    // whose rate batch_norm takes as a host number, so this reads the device.
    factor = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
  }
  return torch::batch_norm(x, weight, bias, running_mean, running_var,
                           is_training() || !options.track_running_stats(), factor, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

torch::Tensor batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) { return dispatch(bn, x); }
torch::Tensor batch_norm(torch::nn::BatchNorm1dImpl& bn, const torch::Tensor& x) { return dispatch(bn, x); }

}  // namespace gps
