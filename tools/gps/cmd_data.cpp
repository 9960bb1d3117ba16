// gps neighbors / embed / eval / prior-report / augment-grid / batch: the prior, its table, evaluation, and what a step sees.
#include "commands.h"

#include "gps/augment/augment.h"
#include "gps/augment/grid.h"
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/eval/evaluate.h"
#include "gps/eval/prior_report.h"
#include "gps/io/fs.h"
#include "gps/io/image.h"
#include "gps/io/npy.h"
#include "gps/io/npz.h"
#include "gps/methods/method.h"
#include "gps/methods/run_reader.h"
#include "gps/models/features.h"
#include "gps/neighbors/table_cache.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/prior.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/checkpoint.h"
#include "gps/train/run_dir.h"
#include "gps/train/step_batch.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

namespace gps::cli {

Runner add_neighbors(CLI::App& app) {
  auto args = std::make_shared<ConfigArgs>();
  add_config_args(&app, *args);
  return [args]() {
    const Config cfg = load_config(args->config_path, args->overrides);
    set_threads(int(cfg.train.threads));
    const Dataset d = load_dataset(cfg.data, "train");
    const std::string cache = cache_dir(cfg.train.out_dir);
    auto prior = make_prior(cfg.prior, cache);
    TableInfo info;
    const NeighborTable t = obtain_table(*prior, d, cfg.neighbors, cache, &info);
    std::printf("table: %s (%s in %.1f s)\n", info.dir.c_str(), info.reused ? "reused" : "built", info.seconds);
    std::printf("fingerprint: %s\n", info.fingerprint.c_str());
    if (!info.search.empty()) std::printf("search: %s\n", info.search.c_str());
    std::printf("rows %lld, candidates per row %lld (valid: mean %.2f, min %lld)\n", static_cast<long long>(t.size()),
                static_cast<long long>(t.width()), t.counts.to(torch::kFloat64).mean().item<double>(),
                static_cast<long long>(t.counts.min().item<int64_t>()));
    if (d.has_labels())
      std::printf("label purity of candidates other than the image itself: %.2f%%\n",
                  100.0 * candidate_label_purity(t, d.labels));
    return 0;
  };
}

Runner add_embed(CLI::App& app) {
  auto args = std::make_shared<ConfigArgs>();
  auto out = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>("train");
  add_config_args(&app, *args);
  app.add_option("-o,--out", *out, "output .npy file (float32 [N, D])")->required();
  app.add_option("--split", *split,
                 "dataset split: train or test (data.train_split / data.test_split), or a split name of the "
                 "dataset such as val, trainval, D_SU")
      ->capture_default_str();
  return [args, out, split]() {
    const Config cfg = load_config(args->config_path, args->overrides);
    set_threads(int(cfg.train.threads));
    const Dataset d = load_dataset(cfg.data, *split);
    auto prior = make_prior(cfg.prior, cache_dir(cfg.train.out_dir));
    const auto t0 = std::chrono::steady_clock::now();
    // Learned priors (PCA, autoencoder, vae) fit on the train split first.
    if (d.split != "train") prior->fit(load_dataset(cfg.data, "train"));
    const auto e = prior->embed(d);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    save_npy(*out, e);
    std::printf("wrote %s: [%lld, %lld] float32 (%s of %s) in %.1f s, %.1f images/s\n", out->c_str(),
                static_cast<long long>(e.size(0)), static_cast<long long>(e.size(1)), prior->describe().c_str(),
                d.name.c_str(), sec, sec > 0 ? double(e.size(0)) / sec : 0.0);
    return 0;
  };
}

Runner add_eval(CLI::App& app) {
  struct Args {
    std::string run, train_npy, test_npy, out;
    ConfigArgs cfg;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--run", a->run, "run directory (config.yaml + checkpoint.pt): evaluate its backbone");
  app.add_option("--embeddings", a->train_npy, "train-split embeddings .npy [N, D] float32 (instead of --run)");
  app.add_option("--test-embeddings", a->test_npy, "test-split embeddings .npy [M, D] float32");
  app.add_option("-o,--out", a->out, "result JSON (default: RUN/eval.json, or eval.json beside --embeddings)");
  add_config_args(&app, a->cfg);
  return [a]() {
    namespace fs = std::filesystem;
    GPS_CHECK(a->run.empty() != a->train_npy.empty(), "gps eval: give either --run DIR or --embeddings FILE");
    Config cfg;
    std::string out = a->out;
    if (!a->run.empty()) {
      cfg = load_config(RunReader(a->run, "--run").config_path(), a->cfg.overrides);
      if (out.empty()) out = (fs::path(a->run) / "eval.json").string();
    } else {
      GPS_CHECK(!a->test_npy.empty(), "--embeddings needs --test-embeddings too");
      cfg = load_config(a->cfg.config_path, a->cfg.overrides);
      if (out.empty()) out = (fs::path(a->train_npy).parent_path() / "eval.json").string();
    }
    set_threads(int(cfg.train.threads));
    const Dataset train_set = load_dataset(cfg.data, "train");
    const Dataset test_set = load_dataset(cfg.data, "test");
    torch::Tensor train_x, test_x;
    if (!a->run.empty()) {
      Method method = RunReader(a->run, "--run").load_method(cfg.method, cfg.model, train_set.channels());
      train_x = extract_features(method->backbone(), train_set);
      test_x = extract_features(method->backbone(), test_set);
      if (cfg.eval.features == "projector") {
        train_x = project_features(*method, train_x);
        test_x = project_features(*method, test_x);
      }
    } else {
      NpyPrior prior(a->train_npy, a->test_npy);
      train_x = prior.embed(train_set);
      test_x = prior.embed(test_set);
    }
    const EvalResult r = evaluate_features(train_x, train_set, test_x, test_set, cfg.eval, uint64_t(cfg.train.seed));
    atomic_write_text(out, r.to_json().dump(2) + "\n");
    std::printf("linear probe %.2f%%, kNN %.2f%%, Recall@1 %.2f%% (written to %s)\n", r.linear_top1, r.knn_top1,
                r.recall_at_1, out.c_str());
    return 0;
  };
}

Runner add_prior_report(CLI::App& app) {
  struct Args {
    ConfigArgs cfg;
    std::string out;
    std::vector<int64_t> ks{1, 4, 9, 16, 32, 64};
    int64_t rows = 10, neighbors = 8;
    bool no_eval = false;
  };
  auto a = std::make_shared<Args>();
  add_config_args(&app, a->cfg);
  app.add_option("-o,--out", a->out, "report folder (default: <train.out_dir>/prior-report-<prior>)");
  app.add_option("--ks", a->ks, "k values of the purity table, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--rows", a->rows, "images (rows) in neighbours.png")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--neighbors", a->neighbors, "neighbours per row in neighbours.png")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_flag("--no-eval", a->no_eval, "skip the linear probe and kNN of the prior's embeddings");
  return [a]() {
    namespace fs = std::filesystem;
    const Config cfg = load_config(a->cfg.config_path, a->cfg.overrides);
    set_threads(int(cfg.train.threads));
    const Dataset train = load_dataset(cfg.data, "train");
    Dataset test;
    const bool evaluate = !a->no_eval && cfg.eval.enabled && train.has_labels();
    if (evaluate) test = load_dataset(cfg.data, "test");
    const std::string cache = cache_dir(cfg.train.out_dir);
    auto prior = make_prior(cfg.prior, cache);
    std::string out = a->out;
    if (out.empty()) {
      std::string tag = cfg.prior.kind;
      if (!cfg.prior.path.empty()) tag += "-" + fs::path(cfg.prior.path).filename().replace_extension().string();
      if (cfg.prior.pca_dim > 0) tag += str_cat("-pca", cfg.prior.pca_dim);
      out = (fs::path(cfg.train.out_dir) / ("prior-report-" + tag)).string();
    }
    PriorReportOptions opts;
    opts.ks = a->ks;
    opts.grid_rows = a->rows;
    opts.grid_neighbors = a->neighbors;
    opts.evaluate = evaluate;
    opts.seed = uint64_t(cfg.train.seed);
    const PriorReport r = make_prior_report(*prior, train, evaluate ? &test : nullptr, cfg.neighbors, cfg.eval, cache, opts);
    write_prior_report(out, r);
    std::printf("prior %s on %s: %lld x %lld embeddings (%.1f s)\n", r.prior.c_str(), r.data.c_str(),
                static_cast<long long>(r.images), static_cast<long long>(r.dim), r.embed_seconds);
    if (!r.purity.empty()) {
      std::printf("label purity of the k nearest others:");
      for (size_t q = 0; q < r.ks.size(); ++q) std::printf("  k=%lld %.2f%%", static_cast<long long>(r.ks[q]), r.purity[q]);
      std::printf("\n");
    }
    std::printf("candidate sets (neighbors.k=%lld): mean %.2f, min %lld, max %lld", static_cast<long long>(r.table_k),
                r.candidates_mean, static_cast<long long>(r.candidates_min), static_cast<long long>(r.candidates_max));
    if (r.candidate_purity >= 0) std::printf(", purity %.2f%%", r.candidate_purity);
    std::printf("\n");
    if (r.eval.done) std::printf("prior embeddings: linear probe %.2f%%, kNN %.2f%%\n", r.eval.linear_top1, r.eval.knn_top1);
    std::printf("report: %s/report.md (report.json, neighbours.png)\n", out.c_str());
    return 0;
  };
}

}  // namespace gps::cli

namespace gps::cli {

Runner add_augment_grid(CLI::App& app) {
  struct Args {
    ConfigArgs cfg;
    std::string out = "augment-grid.png";
    int images = 8, views = 6;
  };
  auto a = std::make_shared<Args>();
  add_config_args(&app, a->cfg);
  app.add_option("-o,--out", a->out, "PNG file to write")->capture_default_str();
  app.add_option("--images", a->images, "rows: dataset images shown")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--views", a->views, "augmented views per image")->capture_default_str()->check(CLI::Range(1, 64));
  return [a]() {
    const Config cfg = load_config(a->cfg.config_path, a->cfg.overrides);
    set_threads(int(cfg.train.threads));
    const Dataset d = load_dataset(cfg.data, "train");
    const AugmentConfig augment = augment_for(cfg);  // the preset resolved as training resolves it
    auto aug = make_augmentation(augment, d.mean, d.std);
    save_png(a->out, augment_grid(d, *aug, a->images, a->views, uint64_t(cfg.train.seed)));
    std::printf("wrote %s: %d images x (original + %d views), preset %s\n", a->out.c_str(), a->images, a->views,
                augment.preset.c_str());
    return 0;
  };
}

// gps batch: the input of one training step (pairs and both views), as the
// trainer makes it, written to an .npz (to inspect, or to check another
// implementation such as gps_ssl against).
Runner add_batch(CLI::App& app) {
  struct Args {
    ConfigArgs cfg;
    std::string out = "batch.npz";
    int64_t epoch = 0, step = 0;
  };
  auto a = std::make_shared<Args>();
  add_config_args(&app, a->cfg);
  app.add_option("-o,--out", a->out, ".npz to write: anchors, positives, positions [B] int64, x1, x2 [B, C, S, S] "
                 "float32, labels [B] int64")->capture_default_str();
  app.add_option("--epoch", a->epoch, "epoch (from 0)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--step", a->step, "step within the epoch (from 0)")->capture_default_str()->check(CLI::NonNegativeNumber);
  return [a]() {
    const Config cfg = load_config(a->cfg.config_path, a->cfg.overrides);
    set_threads(int(cfg.train.threads));
    const Dataset d = load_dataset(cfg.data, "train");
    NeighborTable table = self_table(d.size());
    if (cfg.gps) {  // the table the trainer starts from (before any neighbors.refresh_every rebuild)
      const std::string cache = cache_dir(cfg.train.out_dir);
      auto prior = make_prior(cfg.prior, cache);
      table = obtain_table(*prior, d, cfg.neighbors, cache);
    }
    const uint64_t seed = uint64_t(cfg.train.seed);
    PairSampler sampler(std::move(table), cfg.optim.batch_size, seed);
    GPS_CHECK(a->step < sampler.batches_per_epoch(), "--step ", a->step, " is not in [0, ", sampler.batches_per_epoch(),
              "): an epoch of ", d.size(), " images has that many steps of optim.batch_size = ", cfg.optim.batch_size);
    auto aug = make_augmentation(augment_for(cfg), d.mean, d.std);  // the preset resolved as training resolves it
    const StepBatch v = make_step_batch(sampler.batch(a->epoch, sampler.epoch_order(a->epoch), a->step), *aug, d, seed,
                                        a->epoch, d.has_labels());
    std::map<std::string, torch::Tensor> arrays = {{"anchors", v.pairs.anchors}, {"positives", v.pairs.positives},
                                                   {"positions", v.pairs.positions}, {"x1", v.views.at(0).images}, {"x2", v.views.at(1).images}};
    // Multi-crop (augment.local_crops): the local views, local0 (of the anchors), local1 (of the positives), ...
    for (size_t k = 2; k < v.views.size(); ++k) arrays[str_cat("local", k - 2)] = v.views[k].images;
    if (v.labels.defined()) arrays["labels"] = v.labels;
    save_npz(a->out, arrays);
    std::printf("wrote %s: epoch %lld step %lld, %lld pairs, views %s\n", a->out.c_str(), (long long)a->epoch,
                (long long)a->step, (long long)v.views.at(0).images.size(0), aug->describe().c_str());
    return 0;
  };
}

}  // namespace gps::cli
