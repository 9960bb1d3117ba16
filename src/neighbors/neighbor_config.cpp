#include "gps/neighbors/neighbor_config.h"

#include "gps/core/check.h"

namespace gps {

void validate(const NeighborConfig& nb) {
  const SearchOptions& s = nb.search;
  const CandidateRules& r = nb.rules;
  if (s.nlist > 0)
    GPS_CHECK(s.nprobe <= s.nlist, "neighbors.nprobe (", s.nprobe, ") must not exceed neighbors.nlist (", s.nlist, ")");
  if (s.nlist > 0 && s.ivf_train_size > 0)
    GPS_CHECK(s.ivf_train_size >= s.nlist, "neighbors.ivf_train_size (", s.ivf_train_size,
              ") must be at least neighbors.nlist (", s.nlist, ")");
  GPS_CHECK(s.backend == "faiss" || s.index == "exact" || s.index == "auto", "neighbors.index=", s.index,
            " needs neighbors.backend=faiss (the torch backend is exact only)");
  GPS_CHECK(r.tau_mode == "fixed" || r.tau < 0, "neighbors.tau (", r.tau, ") only applies to tau_mode=fixed; "
            "tau_mode=", r.tau_mode, " computes tau from neighbors.tau_std and tau_window");
  const bool rules = r.tau >= 0 || r.tau_mode != "fixed" || r.mutual || nb.combine != "none";
  GPS_CHECK(!rules || r.exclude_self || r.k > 1, "neighbors.tau/tau_mode/mutual/combine have no effect with "
            "neighbors.k=1 and exclude_self=false: the only candidate is the image itself");
  GPS_CHECK((nb.combine == "none") == nb.extra_priors.empty(), nb.combine == "none"
            ? "neighbors.extra_priors is set but neighbors.combine=none; choose intersection or union"
            : "neighbors.combine needs neighbors.extra_priors (comma-separated .npy train embeddings)");
  GPS_CHECK(nb.combine == "none" || nb.refresh_every == 0, "neighbors.combine does not apply to refreshed tables "
            "(neighbors.refresh_every > 0 rebuilds from the model alone)");
  // k = 1 without exclude_self is allowed: GPS then degenerates to plain SSL (Proposition 1).
}

}  // namespace gps
