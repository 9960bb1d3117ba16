#include "gps/train/compare.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/env_info.h"
#include "gps/core/precision.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/io/fs.h"
#include "gps/prior/prior.h"
#include "gps/train/progress.h"
#include "gps/train/run_dir.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace gps {

namespace {

std::string row(const std::string& name, const EvalResult& e, const std::string& time, const std::string& ips,
                const std::string& dir) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), "| %-28s | %8.2f | %8.2f | %9s | %9s | %s |\n", name.c_str(), e.linear_top1,
                e.knn_top1, time.c_str(), ips.c_str(), dir.c_str());
  return buf;
}

}  // namespace

CompareResult run_compare(const Config& base, const std::string& command_line) {
  base.validate();
  GPS_CHECK(base.eval.enabled, "compare needs eval.enabled=true (it compares test accuracies)");
  CompareResult r;
  const std::string stem = base.train.name.empty() ? str_cat(base.method.name, "-", base.augment.preset) : base.train.name;

  Config plain = base, gps = base;
  plain.gps = false;
  plain.train.name = stem + "-plain";
  gps.gps = true;
  gps.train.name = stem + "-gps";
  r.plain = train(plain, command_line + "  # plain run");
  r.gps = train(gps, command_line + "  # gps run");

  // The prior's own embeddings as a reference point (paper Table 1's "LP").
  set_threads(int(base.train.threads));
  Dataset train_set = load_dataset(base.data, "train");
  Dataset test_set = load_dataset(base.data, "test");
  auto prior = make_prior(base.prior, cache_dir(base.train.out_dir));
  r.prior_name = prior->describe();
  try {
    r.prior = evaluate_features(prior->embed(train_set), train_set, prior->embed(test_set), test_set, base.eval,
                                uint64_t(base.train.seed));
  } catch (const Error& e) {  // e.g. an .npy prior without test embeddings: the runs still compare
    std::fprintf(stderr, "[gps] the prior itself is not evaluated: %s\n", e.what());
  }

  const std::string name = base.method.name;
  std::string md;
  md += str_cat("Comparison on ", base.data.name, ", train images ", r.plain.eval.train_images,
                ", test images ", r.plain.eval.test_images, ", augment=", base.augment.preset, ", ", base.optim.epochs,
                " epochs, batch ", base.optim.batch_size, ", ", base.model.arch, " width ", base.model.width, ", ",
                precision_name(parse_precision(base.train.precision, resolve_device(base.train.device))),
                base.train.channels_last ? " channels-last" : "", "\n", "Measured on: ",
                hardware_line(environment_info()), "\n\n");
  md += "| run                          | linear % |    kNN % | train time |     img/s | run directory |\n";
  md += "|------------------------------|---------:|---------:|----------:|----------:|---------------|\n";
  auto ips = [](double v) { return str_cat(int64_t(v + 0.5)); };
  md += row(name + " (plain)", r.plain.eval, format_duration(r.plain.train_seconds), ips(r.plain.images_per_second),
            r.plain.run_dir);
  md += row("GPS-" + name + " (k=" + std::to_string(base.neighbors.rules.k) + ")", r.gps.eval,
            format_duration(r.gps.train_seconds), ips(r.gps.images_per_second), r.gps.run_dir);
  if (r.prior.done) md += row("prior " + r.prior_name + " itself", r.prior, "-", "-", "-");
  char delta[160];
  std::snprintf(delta, sizeof(delta), "\nGPS - plain: %+.2f points linear, %+.2f points kNN\n",
                r.gps.eval.linear_top1 - r.plain.eval.linear_top1, r.gps.eval.knn_top1 - r.plain.eval.knn_top1);
  md += delta;
  r.table_markdown = md;
  r.out_dir = base.train.out_dir;
  const auto out = std::filesystem::path(base.train.out_dir);
  atomic_write_text((out / (stem + "-compare.md")).string(), md);
  nlohmann::json j = {{"plain", {{"run_dir", r.plain.run_dir}, {"eval", r.plain.eval.to_json()},
                                 {"train_seconds", r.plain.train_seconds}, {"images_per_second", r.plain.images_per_second}}},
                      {"gps", {{"run_dir", r.gps.run_dir}, {"eval", r.gps.eval.to_json()},
                               {"train_seconds", r.gps.train_seconds}, {"images_per_second", r.gps.images_per_second}}},
                      {"prior", {{"name", r.prior_name}, {"eval", r.prior.to_json()}}}};
  atomic_write_text((out / (stem + "-compare.json")).string(), j.dump(2) + "\n");
  return r;
}

namespace {

struct Spread {
  double mean = 0, std = 0;
};

Spread spread(const std::vector<double>& v) {
  Spread s;
  for (double x : v) s.mean += x / double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean) / double(std::max<size_t>(1, v.size() - 1));
  s.std = std::sqrt(s.std);
  return s;
}

std::string pm(const Spread& s) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f +- %.2f", s.mean, s.std);
  return buf;
}

}  // namespace

std::string run_compare_seeds(const Config& cfg, int seeds, const std::string& command_line) {
  GPS_CHECK(seeds >= 1, "--seeds: expected at least 1, got ", seeds);
  const std::string stem = cfg.train.name.empty() ? str_cat(cfg.method.name, "-", cfg.augment.preset) : cfg.train.name;
  // Per seed: plain linear, plain kNN, GPS linear, GPS kNN, gain linear, gain kNN.
  std::vector<std::vector<double>> cols(6);
  std::string rows;
  for (int i = 0; i < seeds; ++i) {
    Config c = cfg;
    c.train.seed = cfg.train.seed + i;
    c.train.name = str_cat(stem, "-s", c.train.seed);
    const CompareResult r = run_compare(c, str_cat(command_line, "  # seed ", c.train.seed));
    const double v[6] = {r.plain.eval.linear_top1, r.plain.eval.knn_top1, r.gps.eval.linear_top1, r.gps.eval.knn_top1,
                         r.gps.eval.linear_top1 - r.plain.eval.linear_top1, r.gps.eval.knn_top1 - r.plain.eval.knn_top1};
    for (int k = 0; k < 6; ++k) cols[size_t(k)].push_back(v[k]);
    char buf[256];
    std::snprintf(buf, sizeof(buf), "| %lld | %.2f / %.2f | %.2f / %.2f | %+.2f / %+.2f |\n",
                  static_cast<long long>(c.train.seed), v[0], v[1], v[2], v[3], v[4], v[5]);
    rows += buf;
  }
  std::vector<Spread> s;
  for (const auto& col : cols) s.push_back(spread(col));
  const std::string name = cfg.method.name;
  std::string md = str_cat("Comparison over ", seeds, " seeds (", cfg.train.seed, "..", cfg.train.seed + seeds - 1,
                           "), linear / kNN top-1 %, mean +- std over seeds\nMeasured on: ",
                           hardware_line(environment_info()), "\n\n");
  md += "| seed | " + name + " (plain) | GPS-" + name + " | GPS - plain |\n|---|---:|---:|---:|\n" + rows;
  md += str_cat("| mean +- std | ", pm(s[0]), " / ", pm(s[1]), " | ", pm(s[2]), " / ", pm(s[3]), " | ", pm(s[4]), " / ",
                pm(s[5]), " |\n");
  const auto out = std::filesystem::path(cfg.train.out_dir);
  atomic_write_text((out / (stem + "-seeds.md")).string(), md);
  nlohmann::json j = {{"seeds", seeds}, {"first_seed", cfg.train.seed}};
  const char* keys[6] = {"plain_linear", "plain_knn", "gps_linear", "gps_knn", "gain_linear", "gain_knn"};
  for (int k = 0; k < 6; ++k)
    j[keys[k]] = {{"per_seed", cols[size_t(k)]}, {"mean", s[size_t(k)].mean}, {"std", s[size_t(k)].std}};
  atomic_write_text((out / (stem + "-seeds.json")).string(), j.dump(2) + "\n");
  return md;
}

}  // namespace gps
