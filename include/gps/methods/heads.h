// Projector and predictor MLPs shared by the methods (docs/reference-behaviour.md §2).
#pragma once

#include <torch/torch.h>

namespace gps {

// Linear(in, hidden) - BN - ReLU - Linear(hidden, out): the BYOL projector
// and the BYOL / NNCLR predictor.
torch::nn::Sequential mlp2_bn(int64_t in, int64_t hidden, int64_t out);

// Linear(in, hidden) - BN - ReLU - Linear(hidden, hidden) - BN - ReLU -
// Linear(hidden, out), plus a final BN(out) when bn_last: the Barlow Twins
// and VICReg projector (bn_last = false) and the NNCLR projector (true).
torch::nn::Sequential mlp3_bn(int64_t in, int64_t hidden, int64_t out, bool bn_last);

// `layers` Linear layers without bias (in -> hidden -> ... -> out), BN +
// ReLU between them; then a BN without affine parameters when `bn_last`,
// and a bias on the last Linear when `last_bias` (solo-learn's
// `_build_mlp`): MoCo v3's projector (2 layers, bn_last) and predictor
// (2 layers), SimSiam's projector (3 layers, bn_last) and predictor
// (2 layers, last_bias).
torch::nn::Sequential mlp_nobias(int64_t layers, int64_t in, int64_t hidden, int64_t out, bool bn_last,
                                 bool last_bias = false);

// The scores of unit rows z [B, D] against prototypes [P, D] whose rows are
// L2-normalised here (weight_norm with g = 1, as DINO and SwAV make them):
// cosines, [B, P]. `frozen`: no gradient reaches the prototypes.
torch::Tensor prototype_scores(const torch::Tensor& z, const torch::Tensor& prototypes, bool frozen);

// Prototypes [count, dim] drawn as nn.Linear(dim, count, bias=False)'s
// weight (DINO's and SwAV's initialisation before the weight norm).
torch::Tensor init_prototypes(int64_t count, int64_t dim);

}  // namespace gps
