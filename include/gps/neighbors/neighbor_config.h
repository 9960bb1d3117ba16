// The neighbors.* keys: how the GPS table is searched (SearchOptions) and
// which neighbours may be positives (CandidateRules). The library's option
// structs are the config's parts, so every default is written once, here.
#pragma once

#include <cstdint>
#include <string>

namespace gps {

// How to search. Every path returns the same distances (squared L2 after the
// cosine normalisation), so tables built by any of them mean the same thing.
struct SearchOptions {
  std::string metric = "l2";      // l2 (squared L2, the reference) | cosine (normalise, then squared L2)
  std::string backend = "faiss";  // faiss | torch (exact blocked matmul, any device)
  std::string device;             // torch backend: where to search ("" = the tensors' device); the
                                  // results come back on the tensors' device
  std::string index = "exact";    // exact | ivf | hnsw | auto (backend faiss only)
  int64_t approx_threshold = 200000;  // auto: exact below this many base vectors, else kAutoApproxIndex
  int64_t nlist = 0;              // ivf: inverted lists (0 = 4 sqrt(N), at least 1)
  int64_t nprobe = 16;            // ivf: lists visited per query (clamped to nlist when nlist is automatic)
  int64_t ivf_train_size = 0;     // ivf: k-means sample (0 = min(N, 40 nlist))
  int64_t hnsw_m = 32;            // hnsw: links per node
  int64_t ef_construction = 80;   // hnsw: beam width while adding
  int64_t ef_search = 128;        // hnsw: beam width while searching (raised to k when smaller)
  int64_t batch_size = 65536;     // queries per search call (bounds the temporary memory)
  int64_t recall_sample = 1000;   // auto: queries whose approximate neighbours are checked against exact
  double min_recall = 0.95;       // auto: recall@k the approximate index must reach, else more probes or exact
  int64_t seed = 0;               // ivf: training sample and k-means initialisation
};

// Candidate rules: which of an image's nearest neighbours may be its GPS
// positive (paper eq. 3; docs/reference-behaviour.md section 1).
struct CandidateRules {
  int64_t k = 4;              // table width (reference num_nns_choice)
  bool exclude_self = false;  // false: row i = {i, NN1..NN(k-1)}; true: {NN1..NNk}
  // Distance ball (paper eq. 3): keep neighbours with squared distance <= tau.
  //  fixed:        tau = `tau`; tau < 0 disables the ball (reference nn_threshold = -1)
  //  adaptive:     one tau for all rows = mean + tau_std * std over the first
  //                tau_window distances of every row (reference main_nn.py:
  //                dist[:, 1:threshold_k + 1], population std)
  //  adaptive_row: tau_i = the same statistics over row i's first tau_window distances
  // "First distances" are those of the nearest other images (self removed by
  // index), i.e. reference columns 1..tau_window when i comes first.
  std::string tau_mode = "fixed";
  double tau = -1;
  double tau_std = 1;        // reference threshold_mode_type: mean+std = 1, mean = 0, mean-std = -1
  int64_t tau_window = 20;   // reference threshold_k; clamped to N - 1
  // Mutual kNN: keep j (!= i) in row i only when i is among j's k candidates
  // (the kNN rows before the ball).
  bool mutual = false;
};

struct NeighborConfig {
  // neighbors.k, exclude_self, tau_mode, tau, tau_std, tau_window, mutual.
  CandidateRules rules;
  // neighbors.metric, backend, device, index, ..., search_batch (batch_size), seed.
  // A run picks the index by size and the device by what is present.
  SearchOptions search{.device = "auto", .index = "auto"};
  bool cache = true;            // reuse a saved table whose fingerprint matches
  int64_t refresh_every = 0;    // rebuild the table from the model being trained every R epochs (0 = never)
  std::string refresh_features = "backbone";  // backbone | projector: the space of refreshed tables
  std::string combine = "none";  // none | intersection | union of the candidates of several priors
  std::string extra_priors;      // comma-separated .npy train embeddings combined with the main prior
};

// Checks among the neighbors.* keys; throws gps::Error naming the keys.
void validate(const NeighborConfig& cfg);

}  // namespace gps
