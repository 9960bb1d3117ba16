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

}  // namespace gps
