// gps export: a trained backbone out to Python (TorchScript, .npz with
// torchvision names, JSON sidecar) and its embeddings as .npy.
#include "commands.h"

#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/io/fs.h"
#include "gps/io/npy.h"
#include "gps/io/npz.h"
#include "gps/methods/run_reader.h"
#include "gps/models/export.h"
#include "gps/models/features.h"
#include "gps/train/run_dir.h"

#include <cstdio>
#include <filesystem>

namespace gps::cli {

Runner add_export(CLI::App& app) {
  struct Args {
    std::string run, out;
    bool embeddings = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--run", a->run, "run directory (config.yaml + checkpoint)")->required();
  app.add_option("-o,--out", a->out, "output folder (default: RUN/export)");
  app.add_flag("--embeddings", a->embeddings, "also write train/test embeddings of the backbone as .npy");
  return [a]() {
    namespace fs = std::filesystem;
    const RunReader run(a->run, "--run");
    const Config cfg = load_config(run.config_path(), {});
    set_threads(int(cfg.train.threads));
    const std::string out = a->out.empty() ? (fs::path(a->run) / "export").string() : a->out;
    fs::create_directories(out);

    const Dataset train_set = load_dataset(cfg.data, "train");
    Method method = run.load_method(cfg.method, cfg.model, train_set.channels());
    const std::string ckpt = run.checkpoint();
    Backbone backbone = method->backbone();
    backbone->eval();

    const auto file = [&](const char* name) { return (fs::path(out) / name).string(); };
    save_npz(file("backbone.npz"), backbone_state(backbone), /*compress=*/false);
    save_backbone_torchscript(backbone, cfg.model, train_set.channels(), file("backbone.pt"));
    auto side = backbone_sidecar(cfg.model, train_set.channels(), train_set.height(), train_set.mean, train_set.std,
                                 backbone->feature_dim());
    side["source"] = {{"run", a->run}, {"checkpoint", ckpt}, {"method", cfg.method.name}, {"gps", cfg.gps}};
    atomic_write_text(file("backbone.json"), side.dump(2) + "\n");
    std::printf("wrote %s, %s, %s\n", file("backbone.pt").c_str(), file("backbone.npz").c_str(),
                file("backbone.json").c_str());
    if (a->embeddings) {
      save_npy(file("train_embeddings.npy"), extract_features(backbone, train_set));
      const Dataset test_set = load_dataset(cfg.data, "test");
      save_npy(file("test_embeddings.npy"), extract_features(backbone, test_set));
      std::printf("wrote %s, %s\n", file("train_embeddings.npy").c_str(), file("test_embeddings.npy").c_str());
    }
    return 0;
  };
}

}  // namespace gps::cli
