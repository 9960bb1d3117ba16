// The prior.* keys: which embedding g the neighbour table is built in.
// Defaults live here once; gps/config/config.h binds them to YAML keys.
#pragma once

#include <cstdint>
#include <string>

namespace gps {

struct PriorConfig {
  std::string kind = "pixels";  // pixels | npy | torchscript | onnx | run | autoencoder | vae
  int64_t pca_dim = 0;          // PCA of the embeddings to this many dimensions, fitted on train (0 = none)
  std::string path;             // npy: train embeddings; torchscript: model file; run: run directory
  std::string test_path;        // npy: test embeddings (optional; for the prior's own evaluation)
  // torchscript: settings left at 0/auto come from the sidecar <path>.json
  // written by scripts/export_prior.py; explicit values win over it.
  std::string sidecar;          // torchscript: "" = <path>.json when present; none = ignore; or a file
  int64_t input_size = 0;       // torchscript: resize images to this square size (0 = sidecar's, else keep)
  int64_t in_channels = 0;      // torchscript: channels the model expects (0 = sidecar's, else as the data; 3 replicates gray)
  std::string normalize = "auto";  // torchscript: auto (sidecar mean/std, else dataset) | dataset | imagenet | none
  int64_t batch_size = 256;     // images per forward pass when embedding
  std::string device = "auto";  // torchscript, run, autoencoder, vae: where the model runs (auto = CUDA when present)
  bool cache = true;            // torchscript, onnx, run: reuse embeddings saved under <train.out_dir>/cache;
                                // autoencoder, vae: reuse the trained model saved there
  // autoencoder | vae: a convolutional (variational) autoencoder trained on
  // the unlabeled train images (input resized to input_size, 0 = 32).
  int64_t latent_dim = 64;      // embedding size (the VAE's posterior mean)
  int64_t epochs = 20;          // training epochs
  double lr = 1e-3;             // Adam learning rate
  double beta = 1.0;            // vae: weight of the KL term
  int64_t seed = 0;             // initialisation and shuffling
};

// Checks among the prior.* keys (a kind's required path, options that do not
// apply to the kind); throws gps::Error naming the keys.
void validate(const PriorConfig& cfg);

}  // namespace gps
