// SSL loss functions, usable without a trainer.
#pragma once

#include <torch/torch.h>

#include <vector>

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

// BYOL regression loss (solo-learn byol_loss_func, simplified form):
//   mean_i ( 2 - 2 cos(p_i, z_i) ).
// p: [N, D] online predictions; z: [N, D] target projections, same dtype and
// device. z is detached here: gradients reach p only. Range [0, 4].
torch::Tensor byol_loss(const torch::Tensor& p, const torch::Tensor& z);

// NNCLR contrastive loss (solo-learn nnclr_loss_func): nn and p are
// L2-normalised, logits = nn p^T / T [N, N], and the loss is the
// cross-entropy of row i against label i, averaged over rows.
// nn: [N, D] nearest neighbours of one view's projections (from the queue);
// p: [N, D] predictions of the other view. The method symmetrises:
// (nnclr_loss(nn1, p2) + nnclr_loss(nn2, p1)) / 2.
torch::Tensor nnclr_loss(const torch::Tensor& nn, const torch::Tensor& p, double temperature);

// MoCo v3 contrastive loss (Chen, Xie & He 2021, Algorithm 1; solo-learn
// mocov3_loss_func): q and k are [N, D], L2-normalised inside; row i of k
// is q_i's positive and every other row a negative. Cross-entropy of
// q k^T / temperature against the diagonal, times 2 * temperature. k gets
// no gradient (the momentum encoder's keys). MoCo v3 sums both directions.
torch::Tensor mocov3_loss(const torch::Tensor& q, const torch::Tensor& k, double temperature);

// DINO's loss (Caron et al. 2021, Algorithm 1, with multi-crop as in its
// code): `student` holds the logits of every view [B, P] (the 2 global views
// first), `teacher` those of the global views. The teacher's targets are
// softmax((t_g - center) / teacher_temp), without gradient; the loss is the
// mean, over the pairs (g, v) with v != g, of the cross-entropy
// mean_b sum_p -target_g log softmax(s_v / student_temp).
torch::Tensor dino_loss(const std::vector<torch::Tensor>& student, const std::vector<torch::Tensor>& teacher,
                        const torch::Tensor& center, double student_temp, double teacher_temp);

// SwAV's Sinkhorn-Knopp (Caron et al. 2020, Algorithm 1 and its
// distributed code): codes for `scores` [N, K] (the cosines of N rows with K
// prototypes). Q = exp(scores / epsilon)^T [K, N] scaled to sum 1; then
// `iters` times: each prototype's row scaled to sum 1/K, each sample's
// column to sum 1/N; the result times N, transposed: [N, K], each row sums
// to 1 (the soft assignment of one sample). Without gradient, in float32
// (float64 inputs stay float64). N is every row given: pass the rows of all
// ranks (the gathered batch) to get the distributed version.
torch::Tensor sinkhorn_knopp(const torch::Tensor& scores, double epsilon, int64_t iters);

// SwAV's swapped prediction (Caron et al. 2020, eq. 1 with multi-crop;
// solo-learn's swav_loss_func): `preds` holds every view's scores [B, K]
// (the 2 global views first), `codes` the Sinkhorn-Knopp codes of the
// global views. The loss is the mean, over the pairs (g, v) with v != g, of
// mean_b sum_k -codes_g log softmax(preds_v / temperature). Codes get no gradient.
torch::Tensor swav_loss(const std::vector<torch::Tensor>& preds, const std::vector<torch::Tensor>& codes,
                        double temperature);

// SimSiam's negative cosine similarity (Chen & He 2021, Algorithm 1):
// -mean_i cos(p_i, stopgrad z_i); p, z [N, D]. SimSiam averages both
// directions: (simsiam_loss(p1, z2) + simsiam_loss(p2, z1)) / 2.
torch::Tensor simsiam_loss(const torch::Tensor& p, const torch::Tensor& z);

struct BarlowTwinsLoss {
  torch::Tensor loss;      // scale * (on_diag + lambda * off_diag), scalar
  torch::Tensor on_diag;   // sum_i (1 - C_ii)^2, unscaled
  torch::Tensor off_diag;  // sum_{i != j} C_ij^2, unweighted and unscaled
};

// Barlow Twins: each column of z1 and z2 is standardised over the batch
// (batch norm without affine: biased variance, eps 1e-5), C = z1n^T z2n / N
// [D, D], loss = scale * (sum_i (1 - C_ii)^2 + lambda sum_{i!=j} C_ij^2).
// z1, z2: [N, D], N >= 2, same dtype and device. Reference defaults:
// lambda 0.0051, scale 0.1 (CIFAR).
BarlowTwinsLoss barlow_twins_loss(const torch::Tensor& z1, const torch::Tensor& z2, double lambda = 0.0051,
                                  double scale = 0.1);

struct VICRegLoss {
  torch::Tensor loss;        // sim_w * invariance + var_w * variance + cov_w * covariance, scalar
  torch::Tensor invariance;  // MSE(z1, z2) averaged over all N*D entries
  torch::Tensor variance;    // sum (or mean) over the two branches of mean_d relu(1 - sqrt(var_d + eps))
  torch::Tensor covariance;  // sum over the two branches of sum_{i!=j} cov_ij^2 / D
};

// VICReg as in solo-learn: variances are unbiased (N - 1), the covariance is
// of the centred embeddings divided by N - 1. z1, z2: [N, D], N >= 2, same
// dtype and device. Reference defaults: weights 25 / 25 / 1, eps 1e-4.
// mean_variance: average the two branches' variance terms (the VICReg
// authors' code and lightly) instead of summing them (solo-learn): at the
// same weights, half the variance term.
VICRegLoss vicreg_loss(const torch::Tensor& z1, const torch::Tensor& z2, double sim_weight = 25.0,
                       double var_weight = 25.0, double cov_weight = 1.0, double eps = 1e-4,
                       bool mean_variance = false);

}  // namespace gps
