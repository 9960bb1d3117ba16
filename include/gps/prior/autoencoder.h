// The paper's VAE prior, for users without a pretrained network: a small
// convolutional autoencoder (or variational autoencoder) trained by the tool
// on the unlabeled train images; its latent code is the prior embedding.
#pragma once

#include "gps/prior/prior.h"

#include <limits>
#include <memory>
#include <string>

namespace gps {

// Defaults: the prior.* keys.
struct AutoencoderOptions {
  bool variational = false;   // VAE: encoder outputs (mu, log sigma^2), embedding = mu
  int64_t latent_dim = PriorConfig{}.latent_dim;
  int64_t input_size = 32;    // images resized to S x S, S a multiple of 8, >= 16 (prior.input_size 0 = 32)
  int64_t epochs = PriorConfig{}.epochs;
  int64_t batch_size = PriorConfig{}.batch_size;
  double lr = PriorConfig{}.lr;  // Adam
  double beta = PriorConfig{}.beta;  // VAE: KL weight
  uint64_t seed = 0;
  bool verbose = true;        // a progress line per epoch on stderr
  std::string device = "cpu"; // where it trains and embeds (the saved model is a CPU one either way)
};

// Encoder: three 4x4 stride-2 convolutions (16, 32, 64 channels, ReLU), a
// linear map to the latent (2 x latent for a VAE). Decoder: the mirror image
// (linear, then three x2 nearest upsamplings each followed by a 3x3
// convolution); it reconstructs the normalised input.
struct AutoencoderNetImpl : torch::nn::Module {
  AutoencoderNetImpl(int64_t channels, const AutoencoderOptions& opt);
  // Embedding: z (autoencoder) or mu (VAE), [B, latent].
  torch::Tensor encode(const torch::Tensor& x);
  // Training loss on a normalised batch; draws the VAE's noise from the
  // global torch generator. Fills the reconstruction and KL parts (means
  // over the batch of per-image sums) when asked.
  torch::Tensor loss(const torch::Tensor& x, double* recon = nullptr, double* kl = nullptr);

  AutoencoderOptions opt;
  int64_t channels;
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear to_latent{nullptr}, from_latent{nullptr};
};
TORCH_MODULE(AutoencoderNet);

// Per image: 0.5 * sum (x - x_hat)^2 (a unit-variance Gaussian decoder).
torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat);
// Per image: KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 sum (1 + logvar - mu^2 - exp(logvar)).
torch::Tensor gaussian_kl(const torch::Tensor& mu, const torch::Tensor& logvar);

// The prior. fit(train) trains the network on the train images (or loads
// the one saved in `cache_dir` for the same data and options); embed(d)
// encodes any split with it.
class AutoencoderPrior : public Prior {
 public:
  AutoencoderPrior(const AutoencoderOptions& opt, std::string cache_dir);
  void fit(const Dataset& train) override;
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;
  // Mean training loss of the last epoch (NaN when the model was loaded).
  double final_loss() const { return final_loss_; }

 private:
  void fit_once(const Dataset& train) const;
  torch::Tensor inputs(const Dataset& d, int64_t start, int64_t n) const;

  AutoencoderOptions opt_;
  std::string cache_dir_;
  // Set by the first fit (embed() of the train split fits lazily).
  mutable AutoencoderNet net_{nullptr};
  mutable bool fitted_ = false;
  mutable std::vector<float> mean_, std_;  // the train split's normalisation
  mutable double final_loss_ = std::numeric_limits<double>::quiet_NaN();
};

// Options from `prior.*` (kind autoencoder or vae).
AutoencoderOptions autoencoder_options(const PriorConfig& cfg);

}  // namespace gps
