#include "gps/neighbors/neighbor_table.h"

#include "gps/distributed/process_group.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"
#include "gps/io/npy.h"
#include "gps/neighbors/candidate_rules.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace gps {

namespace fs = std::filesystem;

void NeighborTable::validate(int64_t n, const std::string& what) const {
  GPS_CHECK(ids.defined() && ids.dim() == 2 && ids.scalar_type() == torch::kInt64, what,
            ": ids must be [N, K] int64");
  GPS_CHECK(ids.size(0) == n, what, ": table has ", ids.size(0), " rows, dataset has ", n, " images");
  GPS_CHECK(dists.defined() && dists.sizes() == ids.sizes() && dists.scalar_type() == torch::kFloat32, what,
            ": dists must be float32 of the shape of ids ", ids.sizes());
  GPS_CHECK(counts.defined() && counts.dim() == 1 && counts.size(0) == n && counts.scalar_type() == torch::kInt64,
            what, ": counts must be [", n, "] int64");
  GPS_CHECK(counts.min().item<int64_t>() >= 1 && counts.max().item<int64_t>() <= ids.size(1), what,
            ": counts must lie in [1, ", ids.size(1), "]");
  // Valid entries must be image ids.
  auto mask = torch::arange(ids.size(1)).unsqueeze(0) < counts.unsqueeze(1);
  auto valid = ids.masked_select(mask);
  GPS_CHECK(valid.min().item<int64_t>() >= 0 && valid.max().item<int64_t>() < n, what,
            ": candidate ids out of range [0, ", n, ")");
}

bool NeighborTable::is_self_only() const {
  if (width() != 1) return false;
  return torch::equal(ids.squeeze(1), torch::arange(size(), torch::kInt64));
}

NeighborTable self_table(int64_t n) {
  NeighborTable t;
  t.ids = torch::arange(n, torch::kInt64).unsqueeze(1).contiguous();
  t.dists = torch::zeros({n, 1}, torch::kFloat32);
  t.counts = torch::ones({n}, torch::kInt64);
  return t;
}

NeighborTable build_table(const torch::Tensor& emb, int64_t k, bool exclude_self, const std::string& metric) {
  CandidateRules rules;
  rules.k = k;
  rules.exclude_self = exclude_self;
  SearchOptions search;
  search.metric = metric;
  return build_table(emb, rules, search);
}

void save_table(const std::string& dir, const NeighborTable& t, const std::string& fingerprint) {
  fs::create_directories(dir);
  const fs::path d(dir);
  // meta.json is written last: its presence marks a complete table, and it
  // keeps the CRC of each file so that a damaged one is detected.
  fs::remove(d / "meta.json");
  // A cache: rebuilt when lost, so no fsync.
  nlohmann::json crc;
  for (auto& [name, tensor] : {std::pair<std::string, torch::Tensor>{"ids", t.ids}, {"dists", t.dists}, {"counts", t.counts}}) {
    const std::string path = (d / (name + ".npy")).string();
    save_npy(path, tensor);  // atomic
    crc[name] = file_crc32(path);
  }
  nlohmann::json meta = {{"fingerprint", fingerprint}, {"rows", t.size()}, {"width", t.width()}, {"crc32", crc},
                         {"search", t.search}};
  atomic_write_text((d / "meta.json").string(), meta.dump(2) + "\n", false);
}

bool load_table(const std::string& dir, const std::string& fingerprint, NeighborTable& out) {
  const fs::path d(dir);
  if (!fs::exists(d / "meta.json")) return false;
  // A cache: whatever is wrong with it (unreadable metadata, a file whose
  // CRC differs, a table that does not fit) means it is built again.
  try {
    nlohmann::json meta;
    {
      std::ifstream f((d / "meta.json").string());
      meta = nlohmann::json::parse(f);
    }
    if (meta.value("fingerprint", "") != fingerprint) return false;
    GPS_CHECK(meta.contains("crc32"), "meta.json has no CRC-32 of the files (written by an older gps)");
    NeighborTable t;
    for (auto [name, tensor] : {std::pair<std::string, torch::Tensor*>{"ids", &t.ids}, {"dists", &t.dists},
                                {"counts", &t.counts}}) {
      const std::string path = (d / (name + ".npy")).string();
      GPS_CHECK(meta["crc32"].value(name, "") == file_crc32(path), path, ": CRC-32 differs from the one in meta.json (a damaged file)");
      *tensor = load_npy(path);
    }
    t.validate(meta.value("rows", int64_t(-1)), dir);
    t.search = meta.value("search", "");
    out = t;
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[gps] ignoring the damaged neighbour-table cache %s (%s); building it again\n",
                 dir.c_str(), e.what());
    return false;
  }
}

}  // namespace gps

namespace gps {

double candidate_label_purity(const NeighborTable& t, const torch::Tensor& labels) {
  GPS_CHECK(labels.dim() == 1 && labels.size(0) == t.size(), "purity: need one label per table row");
  auto self = torch::arange(t.size(), torch::kInt64).unsqueeze(1);
  auto valid = (torch::arange(t.width()).unsqueeze(0) < t.counts.unsqueeze(1)).logical_and(t.ids.ne(self));
  auto same = labels.index_select(0, t.ids.clamp(0, t.size() - 1).flatten()).view_as(t.ids).eq(labels.unsqueeze(1));
  const int64_t n = valid.sum().item<int64_t>();
  if (n == 0) return std::nan("");
  return double(same.logical_and(valid).sum().item<int64_t>()) / double(n);
}

void broadcast_table(dist::Group& group, NeighborTable& table) {
  auto shape = torch::zeros({2}, torch::kInt64);
  if (group.lead()) shape[0] = table.size(), shape[1] = table.width();
  group.broadcast(shape);
  const int64_t n = shape[0].item<int64_t>(), k = shape[1].item<int64_t>();
  if (!group.lead()) {
    table.ids = torch::empty({n, k}, torch::kInt64);
    table.dists = torch::empty({n, k}, torch::kFloat32);
    table.counts = torch::empty({n}, torch::kInt64);
  } else {
    table.ids = table.ids.contiguous();
    table.dists = table.dists.to(torch::kFloat32).contiguous();
    table.counts = table.counts.contiguous();
  }
  group.broadcast(table.ids);
  group.broadcast(table.dists);
  group.broadcast(table.counts);
}

}  // namespace gps
