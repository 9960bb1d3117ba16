// SSL loss functions, usable without a trainer.
#pragma once

#include <torch/torch.h>

namespace gps {

// NT-Xent (InfoNCE) as in SimCLR / solo-learn's simclr_loss_func.
// z: [M, D] embeddings (not necessarily normalised; they are L2-normalised
// here), any float dtype, one device. indexes: [M] int64: rows with equal
// index are positives of each other. For row m:
//   loss_m = -log( sum_{p in P(m)} e^{s_mp/T} / sum_{a != m} e^{s_ma/T} )
// with s the cosine similarity and P(m) the other rows sharing m's index.
// Returns the mean over rows with at least one positive: a scalar.
torch::Tensor nt_xent_indexed(const torch::Tensor& z, const torch::Tensor& indexes, double temperature);

// Two-view NT-Xent: z1, z2 [N, D], row i of z1 and row i of z2 are the
// positive pair; the 2N-2 other views are negatives. Equal to
// nt_xent_indexed(cat(z1, z2), cat(arange(N), arange(N)), T).
torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature);

}  // namespace gps
