// gps_ssl._core: the C++ parts of gps inside a Python process.
//
// The extension links the LibTorch that Python's torch has already loaded
// (the pip torch 2.11.0), so a torch.Tensor crosses as the same at::Tensor:
// nothing is copied, devices are kept, and autograd records the C++ losses.
// gps::Error becomes gps_ssl.Error (a ValueError) with the same message.
// The Python modules in python/gps_ssl wrap these functions with defaults,
// numpy conversion and docstrings; this file only converts.
#include <torch/extension.h>

#include "gps/augment/augment.h"
#include "gps/augment/pil_resize.h"
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/data/image_store.h"
#include "gps/data/registry.h"
#include "gps/data/store_pack.h"
#include "gps/eval/evaluate.h"
#include "gps/methods/losses.h"
#include "gps/methods/run_reader.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/neighbors/neighbor_table.h"
#include "gps/prior/prior.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/run_summary.h"
#include "gps/version_info.h"

#include <map>
#include <memory>
#include <string>

namespace py = pybind11;

namespace {

using Options = std::map<std::string, std::string>;

// A Config with `section.key=value` set for every option; errors name the
// config key (gps::Error), as they do on the command line.
gps::Config config_with(const std::string& section, const Options& options) {
  gps::Config cfg;
  for (const auto& [key, value] : options) cfg.set(section + "." + key, value);
  return cfg;
}

void check_images(const torch::Tensor& images, const std::string& what) {
  GPS_CHECK(images.defined() && images.dim() == 4, what, ": expected a [N, C, H, W] tensor, got ",
            images.defined() ? images.sizes() : c10::IntArrayRef{});
  GPS_CHECK(images.scalar_type() == torch::kUInt8, what, ": expected dtype uint8, got ", images.scalar_type());
  GPS_CHECK(images.device().is_cpu(), what, ": expected a CPU tensor, got one on ", images.device());
  GPS_CHECK(images.size(1) == 1 || images.size(1) == 3, what, ": expected 1 or 3 channels, got ", images.size(1));
}

// A gps Dataset over the caller's images (no copy when they are contiguous).
gps::Dataset images_dataset(const torch::Tensor& images, const std::string& split, std::vector<float> mean,
                            std::vector<float> std) {
  check_images(images, split + " images");
  gps::Dataset d;
  d.name = "python/" + split;
  d.split = split;
  d.set_images(images.contiguous());
  if (mean.empty()) gps::compute_channel_stats(d.all_images(), mean, std);
  GPS_CHECK(int64_t(mean.size()) == d.channels() && int64_t(std.size()) == d.channels(), split,
            " images: mean and std need one value per channel (", d.channels(), "), got ", mean.size(), " and ",
            std.size());
  d.mean = mean;
  d.std = std;
  d.source_index = torch::arange(d.size(), torch::kInt64);
  d.source_size = d.size();
  d.validate();
  return d;
}

gps::Dataset labels_dataset(const torch::Tensor& labels, int64_t num_classes, const std::string& split) {
  GPS_CHECK(labels.dim() == 1 && labels.scalar_type() == torch::kInt64, split,
            " labels: expected a [N] int64 tensor, got ", labels.sizes(), " ", labels.scalar_type());
  gps::Dataset d;
  d.name = "python/" + split;
  d.split = split;
  d.labels = labels.cpu();
  d.num_classes = num_classes;
  // evaluate_features reads labels and sizes only; sizes come from images.
  d.set_images(torch::empty({labels.size(0), 1, 1, 1}, torch::kUInt8));
  return d;
}

// The config as a nested dict of typed values (the schema's types).
py::dict config_dict(const gps::Config& cfg) {
  py::dict root;
  for (const auto& info : gps::config_schema()) {
    const std::string text = cfg.get(info.key);
    py::object value;
    if (info.type == "int") value = py::int_(std::stoll(text));
    else if (info.type == "float") value = py::float_(std::stod(text));
    else if (info.type == "bool") value = py::bool_(text == "true");
    else value = py::str(text);
    py::dict node = root;
    std::string key = info.key;
    for (size_t dot; (dot = key.find('.')) != std::string::npos; key = key.substr(dot + 1)) {
      const std::string part = key.substr(0, dot);
      if (!node.contains(part.c_str())) node[part.c_str()] = py::dict();
      node = node[part.c_str()].cast<py::dict>();
    }
    node[key.c_str()] = value;
  }
  return root;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of gps_ssl (use the gps_ssl package, not this module)";
  py::register_exception<gps::Error>(m, "Error", PyExc_ValueError);
  m.attr("__version__") = GPS_VERSION;
  m.attr("git_commit") = GPS_GIT_COMMIT;

  // ---- neighbour tables ----
  py::class_<gps::NeighborTable>(m, "NeighborTable")
      .def(py::init([](torch::Tensor ids, torch::Tensor dists, torch::Tensor counts) {
             gps::NeighborTable t{ids, dists, counts, {}};
             t.validate(ids.dim() == 2 ? ids.size(0) : -1, "NeighborTable(ids, dists, counts)");
             return t;
           }),
           py::arg("ids"), py::arg("dists"), py::arg("counts"))
      .def_readonly("ids", &gps::NeighborTable::ids)
      .def_readonly("dists", &gps::NeighborTable::dists)
      .def_readonly("counts", &gps::NeighborTable::counts)
      .def("__len__", &gps::NeighborTable::size)
      .def_property_readonly("width", &gps::NeighborTable::width)
      .def("is_self_only", &gps::NeighborTable::is_self_only)
      .def("validate", &gps::NeighborTable::validate, py::arg("n"), py::arg("what"));

  m.def("self_table", &gps::self_table, py::arg("n"));
  m.def(
      "build_table",
      [](const torch::Tensor& emb, const gps::CandidateRules& rules, const gps::SearchOptions& search) {
        GPS_CHECK(emb.dim() == 2, "emb: expected [N, D] embeddings, got ", emb.sizes());
        GPS_CHECK(emb.is_floating_point(), "emb: expected a float tensor, got ", emb.scalar_type());
        py::gil_scoped_release nogil;
        return gps::build_table(emb.to(torch::kFloat32).contiguous(), rules, search);
      },
      py::arg("emb"), py::arg("rules"), py::arg("search"));
  m.def("save_table", &gps::save_table, py::arg("dir"), py::arg("table"), py::arg("fingerprint"));
  m.def(
      "load_table",
      [](const std::string& dir, const std::string& fingerprint) -> py::object {
        gps::NeighborTable t;
        if (!gps::load_table(dir, fingerprint, t)) return py::none();
        return py::cast(t);
      },
      py::arg("dir"), py::arg("fingerprint"));
  m.def("candidate_label_purity", &gps::candidate_label_purity, py::arg("table"), py::arg("labels"));

  py::class_<gps::CandidateRules>(m, "CandidateRules")
      .def(py::init<>())
      .def_readwrite("k", &gps::CandidateRules::k)
      .def_readwrite("exclude_self", &gps::CandidateRules::exclude_self)
      .def_readwrite("tau_mode", &gps::CandidateRules::tau_mode)
      .def_readwrite("tau", &gps::CandidateRules::tau)
      .def_readwrite("tau_std", &gps::CandidateRules::tau_std)
      .def_readwrite("tau_window", &gps::CandidateRules::tau_window)
      .def_readwrite("mutual", &gps::CandidateRules::mutual);
  py::class_<gps::SearchOptions>(m, "SearchOptions")
      .def(py::init<>())
      .def_readwrite("metric", &gps::SearchOptions::metric)
      .def_readwrite("backend", &gps::SearchOptions::backend)
      .def_readwrite("device", &gps::SearchOptions::device)
      .def_readwrite("index", &gps::SearchOptions::index)
      .def_readwrite("approx_threshold", &gps::SearchOptions::approx_threshold)
      .def_readwrite("nlist", &gps::SearchOptions::nlist)
      .def_readwrite("nprobe", &gps::SearchOptions::nprobe)
      .def_readwrite("hnsw_m", &gps::SearchOptions::hnsw_m)
      .def_readwrite("ef_construction", &gps::SearchOptions::ef_construction)
      .def_readwrite("ef_search", &gps::SearchOptions::ef_search)
      .def_readwrite("seed", &gps::SearchOptions::seed);

  // ---- priors ----
  m.def(
      "prior_embed",
      [](const torch::Tensor& images, const Options& options, const std::string& cache_dir, std::vector<float> mean,
         std::vector<float> std, const std::optional<torch::Tensor>& test_images) {
        const gps::Config cfg = config_with("prior", options);
        const gps::Dataset train = images_dataset(images, "train", mean, std);
        py::gil_scoped_release nogil;
        auto prior = gps::make_prior(cfg.prior, cache_dir);
        prior->fit(train);
        torch::Tensor train_emb = prior->embed(train), test_emb;
        if (test_images) test_emb = prior->embed(images_dataset(*test_images, "test", train.mean, train.std));
        return std::make_tuple(train_emb, test_emb, prior->describe());
      },
      py::arg("images"), py::arg("options"), py::arg("cache_dir"), py::arg("mean"), py::arg("std"),
      py::arg("test_images"));

  // ---- image stores ----
  // A handle on an open store (the C++ object is const and shared).
  struct Store {
    gps::ImageStorePtr s;
  };
  py::class_<Store>(m, "ImageStore")
      .def(py::init([](const std::string& path) { return Store{gps::open_store(path)}; }), py::arg("path"))
      .def("__len__", [](const Store& s) { return s.s->size(); })
      .def(
          "fetch",
          [](const Store& s, const torch::Tensor& index) {
            GPS_CHECK(index.dim() == 1, "index: expected a [B] tensor of rows, got ", index.sizes());
            const auto idx = index.to(torch::kCPU, torch::kInt64).contiguous();
            py::gil_scoped_release nogil;
            return s.s->fetch(idx);
          },
          py::arg("index"))
      .def(
          "range",
          [](const Store& s, int64_t start, int64_t n) {
            py::gil_scoped_release nogil;
            return s.s->range(start, n);
          },
          py::arg("start"), py::arg("n"))
      .def_property_readonly("shape", [](const Store& s) { return s.s->shape(); })
      .def_property_readonly("labels", [](const Store& s) { return s.s->labels(); })
      .def_property_readonly("header",
                             [](const Store& s) {
                               const auto& h = s.s->header();
                               py::dict d;
                               d["payload"] = h.payload;
                               d["name"] = h.name;
                               d["split"] = h.split;
                               d["num_classes"] = h.num_classes;
                               d["mean"] = h.mean;
                               d["std"] = h.std;
                               d["chunk_rows"] = h.chunk_rows;
                               d["chunks"] = h.chunks;
                               d["jpeg_quality"] = h.jpeg_quality;
                               d["packed_from"] = h.packed_from;
                               return d;
                             })
      .def_property_readonly("path", [](const Store& s) { return s.s->path(); })
      .def_property_readonly("bytes_read", [](const Store& s) { return s.s->bytes_read(); });
  m.def(
      "pack_store",
      [](const Options& options, const std::string& split, const std::string& path, const std::string& payload,
         int64_t chunk_rows, int64_t quality, int64_t shuffle_seed) {
        gps::Config cfg = config_with("data", options);
        cfg.data.decode_on_read = true;  // image files: decoded a chunk at a time
        py::gil_scoped_release nogil;
        gps::PackOptions o;
        o.payload = payload;
        o.chunk_rows = chunk_rows;
        o.quality = quality;
        o.shuffle_seed = shuffle_seed;
        o.packed_from = "gps_ssl.pack_store data.name=" + cfg.data.name + " data.root=" + cfg.data.root;
        const auto r = gps::pack_store(gps::load_dataset(cfg.data, split), path, o);
        return std::make_tuple(r.rows, r.chunks, r.bytes, r.resumed_chunks);
      },
      py::arg("options"), py::arg("split"), py::arg("path"), py::arg("payload"), py::arg("chunk_rows"),
      py::arg("quality"), py::arg("shuffle_seed"));

  // ---- pairs ----
  py::class_<gps::PairSampler>(m, "PairSampler")
      .def(py::init<gps::NeighborTable, int64_t, uint64_t>(), py::arg("table"), py::arg("batch_size"),
           py::arg("seed"))
      .def("__len__", &gps::PairSampler::size)
      .def_property_readonly("batches_per_epoch", &gps::PairSampler::batches_per_epoch)
      .def_property_readonly("table", &gps::PairSampler::table)
      .def("epoch_order", &gps::PairSampler::epoch_order, py::arg("epoch"))
      .def(
          "positive",
          [](const gps::PairSampler& s, int64_t epoch, int64_t anchor) {
            GPS_CHECK(anchor >= 0 && anchor < s.size(), "anchor ", anchor, " is not in [0, ", s.size(), ")");
            return s.positive(epoch, anchor);
          },
          py::arg("epoch"), py::arg("anchor"))
      .def(
          "positives",
          [](const gps::PairSampler& s, int64_t epoch, const torch::Tensor& anchors) {
            GPS_CHECK(anchors.dim() == 1 && anchors.scalar_type() == torch::kInt64, "anchors: expected a [M] int64 tensor, got ",
                      anchors.sizes(), " ", anchors.scalar_type());
            const auto a = anchors.cpu().contiguous();
            auto out = torch::empty_like(a);
            const int64_t* ap = a.data_ptr<int64_t>();
            int64_t* op = out.data_ptr<int64_t>();
            for (int64_t i = 0; i < a.size(0); ++i) {
              GPS_CHECK(ap[i] >= 0 && ap[i] < s.size(), "anchor ", ap[i], " is not in [0, ", s.size(), ")");
              op[i] = s.positive(epoch, ap[i]);
            }
            return out;
          },
          py::arg("epoch"), py::arg("anchors"))
      .def(
          "batch",
          [](const gps::PairSampler& s, int64_t epoch, const torch::Tensor& order, int64_t b) {
            GPS_CHECK(b >= 0 && b < s.batches_per_epoch(), "batch ", b, " is not in [0, ", s.batches_per_epoch(),
                      ")");
            const auto p = s.batch(epoch, order, b);
            return std::make_tuple(p.anchors, p.positives, p.positions);
          },
          py::arg("epoch"), py::arg("order"), py::arg("b"));

  // ---- augmentation ----
  py::class_<gps::Augmentation, std::shared_ptr<gps::Augmentation>>(m, "Augmentation")
      .def(
          "apply",
          [](const gps::Augmentation& a, const torch::Tensor& images, const torch::Tensor& keys, uint64_t stream,
             int view) {
            check_images(images, "images");
            GPS_CHECK(keys.dim() == 1 && keys.scalar_type() == torch::kInt64 && keys.size(0) == images.size(0),
                      "keys: expected a [", images.size(0), "] int64 tensor (one per image), got ", keys.sizes(), " ",
                      keys.scalar_type());
            GPS_CHECK(view == 0 || view == 1, "view must be 0 or 1, got ", view);
            py::gil_scoped_release nogil;
            return a.apply(images.contiguous(), keys.cpu().contiguous(), stream, view);
          },
          py::arg("images"), py::arg("keys"), py::arg("stream"), py::arg("view"))
      .def("describe", &gps::Augmentation::describe);
  m.def(
      "make_augmentation",
      [](const Options& options, const std::vector<float>& mean, const std::vector<float>& std) {
        const gps::Config cfg = config_with("augment", options);
        return std::shared_ptr<gps::Augmentation>(gps::make_augmentation(gps::augment_for(cfg), mean, std));
      },
      py::arg("options"), py::arg("mean"), py::arg("std"));
  m.def("view_stream", &gps::view_stream, py::arg("seed"), py::arg("epoch"), py::arg("view"));
  m.def(
      "pil_resize",
      [](const torch::Tensor& images, int64_t height, int64_t width, const std::string& filter) {
        check_images(images, "images");
        GPS_CHECK(filter == "bicubic" || filter == "bilinear", "pil_resize: filter must be bicubic or bilinear, got '",
                  filter, "'");
        py::gil_scoped_release nogil;
        return gps::pil_resize(images, height, width,
                               filter == "bicubic" ? gps::PilFilter::bicubic : gps::PilFilter::bilinear);
      },
      py::arg("images"), py::arg("height"), py::arg("width"), py::arg("filter"));
  m.def(
      "to_normalized_float",
      [](const torch::Tensor& images, const std::vector<float>& mean, const std::vector<float>& std) {
        check_images(images, "images");
        py::gil_scoped_release nogil;
        return gps::to_normalized_float(images, mean, std);
      },
      py::arg("images"), py::arg("mean"), py::arg("std"));

  // ---- losses (autograd-capable: they run on the caller's tensors) ----
  m.def("nt_xent", &gps::nt_xent, py::arg("z1"), py::arg("z2"), py::arg("temperature"));
  m.def("nt_xent_indexed", &gps::nt_xent_indexed, py::arg("z"), py::arg("indexes"), py::arg("temperature"));
  m.def("byol_loss", &gps::byol_loss, py::arg("p"), py::arg("z"));
  m.def("nnclr_loss", &gps::nnclr_loss, py::arg("nn"), py::arg("p"), py::arg("temperature"));
  m.def("mocov3_loss", &gps::mocov3_loss, py::arg("q"), py::arg("k"), py::arg("temperature"));
  m.def("simsiam_loss", &gps::simsiam_loss, py::arg("p"), py::arg("z"));
  m.def("dino_loss", &gps::dino_loss, py::arg("student"), py::arg("teacher"), py::arg("center"),
        py::arg("student_temp"), py::arg("teacher_temp"));
  m.def("sinkhorn_knopp", &gps::sinkhorn_knopp, py::arg("scores"), py::arg("epsilon"), py::arg("iters"));
  m.def("swav_loss", &gps::swav_loss, py::arg("preds"), py::arg("codes"), py::arg("temperature"));
  m.def(
      "barlow_twins_loss",
      [](const torch::Tensor& z1, const torch::Tensor& z2, double lambda, double scale) {
        auto r = gps::barlow_twins_loss(z1, z2, lambda, scale);
        return std::make_tuple(r.loss, r.on_diag, r.off_diag);
      },
      py::arg("z1"), py::arg("z2"), py::arg("lambda_"), py::arg("scale"));
  m.def(
      "vicreg_loss",
      [](const torch::Tensor& z1, const torch::Tensor& z2, double sim, double var, double cov, double eps,
         bool mean_variance) {
        auto r = gps::vicreg_loss(z1, z2, sim, var, cov, eps, mean_variance);
        return std::make_tuple(r.loss, r.invariance, r.variance, r.covariance);
      },
      py::arg("z1"), py::arg("z2"), py::arg("sim_weight"), py::arg("var_weight"), py::arg("cov_weight"),
      py::arg("eps"), py::arg("mean_variance") = false);

  // ---- data, evaluation, configs ----
  m.def(
      "load_dataset",
      [](const Options& options, const std::string& split) {
        const gps::Config cfg = config_with("data", options);
        py::gil_scoped_release nogil;
        gps::Dataset d = gps::load_dataset(cfg.data, split);
        return std::make_tuple(d.all_images(), d.labels, d.num_classes, d.mean, d.std, d.name, d.source_index);
      },
      py::arg("options"), py::arg("split"));
  m.def(
      "evaluate",
      [](const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
         const torch::Tensor& test_y, int64_t num_classes, const Options& options, uint64_t seed) {
        GPS_CHECK(train_x.dim() == 2 && train_x.size(0) == train_y.size(0), "train_x: expected [", train_y.size(0),
                  ", D] features (one row per train label), got ", train_x.sizes());
        GPS_CHECK(test_x.dim() == 2 && test_x.size(0) == test_y.size(0) && test_x.size(1) == train_x.size(1),
                  "test_x: expected [", test_y.size(0), ", ", train_x.size(1), "] features, got ", test_x.sizes());
        const gps::Config cfg = config_with("eval", options);
        const auto train = labels_dataset(train_y, num_classes, "train");
        const auto test = labels_dataset(test_y, num_classes, "test");
        std::string json;
        {
          py::gil_scoped_release nogil;
          json = gps::evaluate_features(train_x.to(torch::kFloat32), train, test_x.to(torch::kFloat32), test,
                                        cfg.eval, seed)
                     .to_json()
                     .dump();
        }
        return json;
      },
      py::arg("train_x"), py::arg("train_y"), py::arg("test_x"), py::arg("test_y"), py::arg("num_classes"),
      py::arg("options"), py::arg("seed"));
  m.def(
      "read_run_files",
      [](const std::string& dir) {
        const gps::RunReader run(dir, "read_run");
        const auto summary = gps::find_run_summary(dir);
        py::dict out;
        out["config"] = run.config_path();
        out["summary"] = summary ? py::object(py::str(summary->to_json().dump())) : py::object(py::none());
        out["checkpoints"] = run.checkpoints();
        return out;
      },
      py::arg("dir"));
  m.def(
      "load_config",
      [](const std::string& path, const std::vector<std::string>& overrides) {
        return config_dict(gps::load_config(path, overrides));
      },
      py::arg("path"), py::arg("overrides"));
}
