// The method.* keys: the SSL objective and its heads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace gps {

struct MethodConfig {
  std::string name = "simclr";  // simclr | byol | nnclr | barlow_twins | vicreg | mocov3 | simsiam | dino | swav
  double temperature = 0.2;     // NT-Xent / InfoNCE temperature (SimCLR, NNCLR, MoCo v3); SwAV's softmax one
  int64_t proj_hidden_dim = 2048;  // reference: 2048 (BYOL 4096)
  int64_t proj_output_dim = 256;   // reference: 256 (Barlow Twins, VICReg 2048)
  int64_t pred_hidden_dim = 4096;  // predictor hidden width (BYOL, NNCLR, MoCo v3; SimSiam's bottleneck: 512)
  double tau_base = 0.99;       // BYOL, MoCo v3: EMA rate at step 0, cosine-increased to 1
  int64_t queue_size = 65536;   // NNCLR: support-set rows, a multiple of optim.batch_size; SwAV: rows per global view (0 = none)
  double barlow_lambda = 0.0051;  // Barlow Twins: weight of the off-diagonal term
  double barlow_scale = 0.1;      // Barlow Twins: factor on the whole loss
  double vicreg_sim_weight = 25.0;  // VICReg: invariance (MSE) weight
  double vicreg_var_weight = 25.0;  // VICReg: variance (hinge on std) weight
  double vicreg_cov_weight = 1.0;   // VICReg: covariance weight
  std::string vicreg_variance = "sum";  // VICReg: the two branches' variance hinges summed (solo-learn, the
                                        // reference) or averaged, "mean" (the VICReg authors' code, lightly)
  // DINO (solo-learn's defaults; the CIFAR recipe sets tau_base 0.9995).
  int64_t num_prototypes = 4096;         // DINO, SwAV: output width of the head (its prototypes)
  double student_temp = 0.1;             // DINO: student softmax temperature
  double teacher_temp = 0.07;            // DINO: teacher temperature after its warm-up
  double warmup_teacher_temp = 0.04;     // DINO: teacher temperature at epoch 0 ...
  int64_t warmup_teacher_temp_epochs = 0;  // ... rising linearly to teacher_temp over these epochs (0: none)
  double center_momentum = 0.9;          // DINO: EMA rate of the teacher's centre
  int64_t freeze_last_layer = 1;         // DINO, SwAV: epochs during which the prototypes get no update
  bool use_bn_in_head = false;           // DINO: batch norm after the head's hidden layers (DINO's flag)
  // SwAV (solo-learn's defaults).
  int64_t sk_iters = 3;                  // SwAV: Sinkhorn-Knopp iterations
  double sk_epsilon = 0.05;              // SwAV: entropy regularisation of Sinkhorn-Knopp
  int64_t epoch_queue_starts = 15;       // SwAV: first epoch whose assignments also see the queue
};

// JSON with the key names of the method.* keys (see ModelConfig's).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MethodConfig, name, temperature, proj_hidden_dim, proj_output_dim,
                                                pred_hidden_dim, tau_base, queue_size, barlow_lambda, barlow_scale,
                                                vicreg_sim_weight, vicreg_var_weight, vicreg_cov_weight, vicreg_variance,
                                                num_prototypes,
                                                student_temp, teacher_temp, warmup_teacher_temp,
                                                warmup_teacher_temp_epochs, center_momentum, freeze_last_layer,
                                                use_bn_in_head, sk_iters, sk_epsilon, epoch_queue_starts)

}  // namespace gps
