// Builds a GPS neighbour table from a prior, or reuses the saved one when
// prior, data and neighbour settings are unchanged (same fingerprint).
#pragma once

#include "gps/data/dataset.h"
#include "gps/neighbors/neighbor_config.h"
#include "gps/neighbors/neighbor_table.h"
#include "gps/prior/prior.h"

#include <string>

namespace gps {

struct TableInfo {
  std::string dir;          // folder holding the table files
  std::string fingerprint;  // prior + data + k + exclude_self + metric
  bool reused = false;      // loaded from disk instead of built
  double seconds = 0;       // time to embed + search (or to load)
  std::string search;       // how it was searched: index, and with index auto the measured recall
};

// Fingerprint text of a table for these inputs.
std::string table_fingerprint(const Prior& prior, const Dataset& d, const NeighborConfig& cfg);

// Returns the table for (prior, d, cfg), cached under
// `cache_root/neighbors-<hash>/` when cfg.cache. Throws gps::Error when
// cfg.k does not fit the dataset.
NeighborTable obtain_table(const Prior& prior, const Dataset& d, const NeighborConfig& cfg,
                           const std::string& cache_root, TableInfo* info = nullptr);

}  // namespace gps
