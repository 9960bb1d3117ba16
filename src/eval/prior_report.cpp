#include "gps/eval/prior_report.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/io/fs.h"
#include "gps/io/image.h"
#include "gps/neighbors/table_cache.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

namespace gps {

namespace fs = std::filesystem;

std::vector<double> knn_label_purity(const torch::Tensor& emb, const torch::Tensor& labels,
                                     const std::vector<int64_t>& ks, const SearchOptions& opts) {
  const int64_t n = emb.size(0);
  GPS_CHECK(labels.dim() == 1 && labels.size(0) == n, "purity: need one label per embedding row (", n, " rows, ",
            labels.numel(), " labels)");
  GPS_CHECK(!ks.empty(), "purity: no k given");
  const int64_t kmax = *std::max_element(ks.begin(), ks.end());
  for (int64_t k : ks) GPS_CHECK(k >= 1 && k < n, "purity: k = ", k, " must be in [1, ", n - 1, "] for ", n, " images");
  const KnnResult r = knn_search(emb, emb, std::min(kmax + 1, n), opts);
  const auto ids = r.ids.to(torch::kCPU).contiguous();
  const auto lab = labels.to(torch::kInt64).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  const int64_t* l = lab.data_ptr<int64_t>();
  const int64_t width = ids.size(1);
  std::vector<double> hits(ks.size(), 0.0), seen(ks.size(), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t taken = 0, same = 0;
    // The k nearest others: skip i itself wherever duplicates put it.
    for (int64_t c = 0; c < width && taken < kmax; ++c) {
      const int64_t j = id[i * width + c];
      if (j < 0 || j == i) continue;
      ++taken;
      same += l[j] == l[i];
      for (size_t q = 0; q < ks.size(); ++q)
        if (taken == ks[q]) hits[q] += same, seen[q] += taken;
    }
  }
  std::vector<double> out(ks.size());
  for (size_t q = 0; q < ks.size(); ++q) out[q] = seen[q] > 0 ? 100.0 * hits[q] / seen[q] : std::nan("");
  return out;
}

torch::Tensor neighbor_grid(const Dataset& d, const torch::Tensor& anchors, const torch::Tensor& neighbors) {
  GPS_CHECK(anchors.dim() == 1 && neighbors.dim() == 2 && neighbors.size(0) == anchors.size(0),
            "neighbor_grid: anchors [R] and neighbors [R, K] expected");
  const int64_t R = anchors.size(0), K = neighbors.size(1);
  const int64_t scale = std::max<int64_t>(1, (56 + d.height() - 1) / d.height());
  const int64_t H = d.height() * scale, W = d.width() * scale;
  constexpr int64_t kFrame = 3, kGap = 4;
  const int64_t ch = H + 2 * kFrame + kGap, cw = W + 2 * kFrame + kGap;
  auto grid = torch::full({3, R * ch + kGap, (K + 1) * cw + kGap}, 255, torch::kUInt8);
  auto cell = [&](int64_t r, int64_t c, int64_t index, const std::vector<uint8_t>& frame) {
    const int64_t y = kGap + r * ch, x = kGap + c * cw;
    auto box = grid.narrow(1, y, H + 2 * kFrame).narrow(2, x, W + 2 * kFrame);
    for (int k = 0; k < 3; ++k) box[k].fill_(frame[size_t(k)]);
    auto img = d.fetch(torch::tensor({index}, torch::kInt64))[0];
    if (img.size(0) == 1) img = img.expand({3, -1, -1});
    img = img.repeat_interleave(scale, 1).repeat_interleave(scale, 2);
    box.narrow(1, kFrame, H).narrow(2, kFrame, W).copy_(img);
  };
  const std::vector<uint8_t> blue = {40, 90, 220}, green = {30, 170, 60}, red = {220, 40, 40}, white = {255, 255, 255};
  const auto a = anchors.to(torch::kInt64).contiguous();
  const auto nb = neighbors.to(torch::kInt64).contiguous();
  for (int64_t r = 0; r < R; ++r) {
    const int64_t i = a[r].item<int64_t>();
    GPS_CHECK(i >= 0 && i < d.size(), "neighbor_grid: anchor ", i, " out of range");
    cell(r, 0, i, d.has_labels() ? blue : white);
    for (int64_t c = 0; c < K; ++c) {
      const int64_t j = nb[r][c].item<int64_t>();
      if (j < 0) continue;
      GPS_CHECK(j < d.size(), "neighbor_grid: neighbour ", j, " out of range");
      const bool same = d.has_labels() && d.labels[j].item<int64_t>() == d.labels[i].item<int64_t>();
      cell(r, 1 + c, j, !d.has_labels() ? white : same ? green : red);
    }
  }
  return grid;
}

PriorReport make_prior_report(Prior& prior, const Dataset& train, const Dataset* test,
                              const NeighborConfig& neighbors, const EvalConfig& eval, const std::string& cache_dir,
                              const PriorReportOptions& opts) {
  PriorReport r;
  r.data = train.name;
  r.images = train.size();
  r.ks = opts.ks;
  GPS_CHECK(opts.grid_rows >= 1 && opts.grid_neighbors >= 1, "prior report: --rows and --neighbors must be >= 1");
  for (int64_t k : opts.ks)
    GPS_CHECK(k >= 1 && k < train.size(), "prior report: k = ", k, " must be in [1, ", train.size() - 1, "] for the ",
              train.size(), " images of ", train.name);

  const auto t0 = std::chrono::steady_clock::now();
  prior.fit(train);
  const torch::Tensor emb = prior.embed(train);
  r.embed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.prior = prior.describe();
  r.dim = emb.size(1);
  const SearchOptions search = search_options(neighbors);
  if (train.has_labels()) r.purity = knn_label_purity(emb, train.labels, opts.ks, search);

  // The configured candidate sets.
  const NeighborTable t = obtain_table(prior, train, neighbors, cache_dir);
  r.table_k = t.width();
  const auto counts = t.counts.to(torch::kInt64);
  r.candidates_mean = counts.to(torch::kFloat64).mean().item<double>();
  r.candidates_min = counts.min().item<int64_t>();
  r.candidates_max = counts.max().item<int64_t>();
  const auto hist = torch::bincount(counts, {}, r.table_k + 1);
  for (int64_t s = 0; s <= r.table_k; ++s) r.candidates_histogram.push_back(hist[s].item<int64_t>());
  if (train.has_labels()) {
    const double p = candidate_label_purity(t, train.labels);
    r.candidate_purity = std::isfinite(p) ? 100.0 * p : -1;
  }

  // The picture: random anchors and their nearest other images.
  const int64_t rows = std::min(opts.grid_rows, train.size());
  const int64_t kn = std::min(opts.grid_neighbors, train.size() - 1);
  std::vector<int64_t> anchors;
  std::set<int64_t> used;
  Rng rng(opts.seed, 0x9e1d);
  while (int64_t(anchors.size()) < rows) {
    const int64_t i = int64_t(rng.below(uint64_t(train.size())));
    if (used.insert(i).second) anchors.push_back(i);
  }
  const auto anchor_t = torch::tensor(anchors, torch::kInt64);
  const KnnResult nn = knn_search(emb, emb.index_select(0, anchor_t), kn + 1, search);
  auto ids = nn.ids.to(torch::kCPU);
  auto shown = torch::full({rows, kn}, -1, torch::kInt64);
  for (int64_t a = 0; a < rows; ++a) {
    int64_t c = 0;
    for (int64_t q = 0; q < ids.size(1) && c < kn; ++q) {
      const int64_t j = ids[a][q].item<int64_t>();
      if (j >= 0 && j != anchors[size_t(a)]) shown[a][c++] = j;
    }
  }
  r.grid = neighbor_grid(train, anchor_t, shown);

  if (opts.evaluate && test != nullptr && train.has_labels() && test->has_labels()) {
    const torch::Tensor test_emb = prior.embed(*test);
    r.eval = evaluate_features(emb, train, test_emb, *test, eval, opts.seed);
  }
  return r;
}

nlohmann::json PriorReport::to_json() const {
  nlohmann::json j;
  j["prior"] = prior;
  j["data"] = data;
  j["images"] = images;
  j["dim"] = dim;
  j["embed_seconds"] = embed_seconds;
  nlohmann::json p = nlohmann::json::object();
  for (size_t q = 0; q < purity.size(); ++q) p[std::to_string(ks[q])] = purity[q];
  j["knn_label_purity"] = p;
  j["candidates"] = {{"k", table_k},
                     {"mean", candidates_mean},
                     {"min", candidates_min},
                     {"max", candidates_max},
                     {"histogram", candidates_histogram},
                     {"label_purity", candidate_purity >= 0 ? nlohmann::json(candidate_purity) : nlohmann::json()}};
  j["eval"] = eval.done ? eval.to_json() : nlohmann::json();
  return j;
}

std::string PriorReport::to_markdown(const std::string& grid_file) const {
  std::string s = str_cat("# Prior report\n\n- prior: `", prior, "`\n- data: ", data, " (", images,
                          " images)\n- embedding: ", dim, " dimensions, computed in ", embed_seconds, " s\n\n");
  if (!purity.empty()) {
    s += "## Label purity of the k nearest other images\n\n| k |";
    for (int64_t k : ks) s += str_cat(" ", k, " |");
    s += "\n|---|";
    for (size_t q = 0; q < ks.size(); ++q) s += "---:|";
    s += "\n| purity (%) |";
    char buf[32];
    for (double p : purity) std::snprintf(buf, sizeof(buf), " %.2f |", p), s += buf;
    s += "\n\n";
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "## Candidate sets (neighbors.*)\n\nk = %lld; candidates per image: mean %.2f, min %lld, max %lld",
                static_cast<long long>(table_k), candidates_mean, static_cast<long long>(candidates_min),
                static_cast<long long>(candidates_max));
  s += line;
  if (candidate_purity >= 0) std::snprintf(line, sizeof(line), "; label purity of candidates j != i: %.2f %%", candidate_purity), s += line;
  s += "\n\n| candidates | images |\n|---:|---:|\n";
  for (size_t c = 1; c < candidates_histogram.size(); ++c)
    if (candidates_histogram[c] > 0) s += str_cat("| ", c, " | ", candidates_histogram[c], " |\n");
  if (eval.done) {
    std::snprintf(line, sizeof(line),
                  "\n## The prior's own embeddings\n\n| linear probe (%%) | kNN (%%) |\n|---:|---:|\n| %.2f | %.2f |\n",
                  eval.linear_top1, eval.knn_top1);
    s += line;
  }
  s += str_cat("\n## Nearest neighbours\n\nEach row: an image (blue frame), then its nearest other images; green = "
               "same label, red = another label.\n\n![neighbours](", grid_file, ")\n");
  return s;
}

void write_prior_report(const std::string& dir, const PriorReport& r) {
  fs::create_directories(dir);
  atomic_write_text((fs::path(dir) / "report.json").string(), r.to_json().dump(2) + "\n");
  atomic_write_text((fs::path(dir) / "report.md").string(), r.to_markdown("neighbours.png"));
  save_png((fs::path(dir) / "neighbours.png").string(), r.grid);
}

}  // namespace gps
