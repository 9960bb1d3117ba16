// The method.* keys: the SSL objective and its heads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace gps {

struct MethodConfig {
  std::string name = "simclr";  // simclr | byol | nnclr | barlow_twins | vicreg | mocov3 | simsiam
  double temperature = 0.2;     // NT-Xent / InfoNCE temperature (SimCLR, NNCLR, MoCo v3)
  int64_t proj_hidden_dim = 2048;  // reference: 2048 (BYOL 4096)
  int64_t proj_output_dim = 256;   // reference: 256 (Barlow Twins, VICReg 2048)
  int64_t pred_hidden_dim = 4096;  // predictor hidden width (BYOL, NNCLR, MoCo v3; SimSiam's bottleneck: 512)
  double tau_base = 0.99;       // BYOL, MoCo v3: EMA rate at step 0, cosine-increased to 1
  int64_t queue_size = 65536;   // NNCLR: support-set rows, a multiple of optim.batch_size
  double barlow_lambda = 0.0051;  // Barlow Twins: weight of the off-diagonal term
  double barlow_scale = 0.1;      // Barlow Twins: factor on the whole loss
  double vicreg_sim_weight = 25.0;  // VICReg: invariance (MSE) weight
  double vicreg_var_weight = 25.0;  // VICReg: variance (hinge on std) weight
  double vicreg_cov_weight = 1.0;   // VICReg: covariance weight
};

// JSON with the key names of the method.* keys (see ModelConfig's).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MethodConfig, name, temperature, proj_hidden_dim, proj_output_dim,
                                                pred_hidden_dim, tau_base, queue_size, barlow_lambda, barlow_scale,
                                                vicreg_sim_weight, vicreg_var_weight, vicreg_cov_weight)

}  // namespace gps
