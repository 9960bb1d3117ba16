#include "gps/methods/feature_queue.h"

#include "gps/core/check.h"
#include "gps/core/precision.h"

namespace gps {

namespace F = torch::nn::functional;

FeatureQueueImpl::FeatureQueueImpl(int64_t size, int64_t dim) {
  GPS_CHECK(size > 0 && dim > 0, "feature queue: size and dim must be positive, got ", size, " and ", dim);
  rows = register_buffer("rows", F::normalize(torch::randn({size, dim}), F::NormalizeFuncOptions().dim(1)));
  ptr = register_buffer("ptr", torch::zeros({1}, torch::kInt64));
}

void FeatureQueueImpl::push(const torch::Tensor& z) {
  GPS_CHECK(z.dim() == 2 && z.size(1) == rows.size(1), "feature queue: expected [B, ", rows.size(1), "], got ",
            z.sizes());
  const int64_t b = z.size(0), n = size();
  GPS_CHECK(b > 0 && n % b == 0, "method.queue_size (", n, ") must be divisible by the batch size (", b,
            "); set method.queue_size to a multiple of optim.batch_size");
  torch::NoGradGuard no_grad;
  // The write positions are computed on the queue's device: no read-back of
  // the pointer, so the step loop does not wait for the GPU here.
  auto at = (ptr + torch::arange(b, ptr.options())).remainder_(n);
  rows.index_copy_(0, at, z.detach().to(rows.scalar_type()));
  ptr.add_(b).remainder_(n);
}

torch::Tensor FeatureQueueImpl::nearest(const torch::Tensor& z, torch::Tensor* index) const {
  GPS_CHECK(z.dim() == 2 && z.size(1) == rows.size(1), "feature queue: expected [B, ", rows.size(1), "], got ",
            z.sizes());
  torch::NoGradGuard no_grad;
  Float32Scope fp32;  // the support-set search in float32, also under bf16 autocast
  const auto zf = to_float32(z.detach());
  auto q = rows.to(zf.scalar_type());
  auto idx = zf.mm(q.t()).argmax(1);
  if (index) *index = idx;
  return q.index_select(0, idx);
}

}  // namespace gps
