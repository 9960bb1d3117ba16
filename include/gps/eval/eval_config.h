// The eval.* keys: the linear probe and kNN after training, and the kNN
// curve during it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gps {

struct EvalConfig {
  bool enabled = true;          // linear probe + kNN on the test split after training
  int64_t knn_k = 20;
  double knn_temperature = 0.07;
  // adam: an Adam probe on standardised features, eval.linear_lr / linear_weight_decay (or linear_select=val);
  // sgd-grid: the paper's (its appendix): SGD with momentum 0.9 on the raw features over the classifier lrs
  // of eval.sgd_lr_grid, no weight decay, the lr chosen on a validation split of train, refit on all train.
  std::string linear = "sgd-grid";
  std::string sgd_lr_grid = "0.03,0.01,0.3,0.1,1,3";  // linear=sgd-grid: the paper's classifier lrs
  int64_t linear_epochs = 30;
  double linear_lr = 1e-2;
  double linear_weight_decay = 1e-5;
  int64_t linear_batch_size = 256;
  std::string linear_select = "none";  // linear=adam: none = linear_lr / linear_weight_decay as given; val = chosen
                                       // on a validation split (linear=sgd-grid always selects on validation)
  double val_fraction = 0.1;           // sgd-grid or linear_select=val: share of each train class held out
  std::string linear_lr_grid = "0.001,0.01,0.1";   // linear_select=val: candidate lrs
  std::string linear_wd_grid = "0,1e-5,1e-4";      // linear_select=val: candidate weight decays
  std::string knn_metric = "cosine";   // cosine | l2: kNN classifier and Recall@k
  int64_t knn_every = 0;               // kNN accuracy on the test split every N epochs during training (0 = off)
  std::string features = "backbone";   // backbone | projector: the space the final probes (and `gps eval --run`) use
};

// Checks among the eval.* keys (the grids parse when linear_select=val);
// throws gps::Error naming the keys.
void validate(const EvalConfig& cfg);

// Parses a comma-separated list of non-negative numbers ("1e-3,0.01,0.1");
// errors name `key`.
std::vector<double> parse_number_list(const std::string& key, const std::string& text);

}  // namespace gps
