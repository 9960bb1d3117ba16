// RankMe (Garrido et al. 2023): the effective rank of a representation,
// a label-free monitor. A collapsed embedding scores near 1, a healthy one
// close to its width.
#pragma once

#include <torch/torch.h>

namespace gps {

// z: [N, D] embeddings, any float dtype and device. With sigma the singular
// values of z, p_k = sigma_k / sum(sigma) + eps, RankMe = exp(-sum_k p_k log p_k).
// Computed in float64; in [1, min(N, D)] up to eps. Throws gps::Error for
// an input that is not [N, D] with N, D >= 1, or not finite.
double rankme(const torch::Tensor& z, double eps = 1e-7);

}  // namespace gps
