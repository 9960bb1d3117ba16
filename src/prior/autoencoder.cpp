#include "gps/prior/autoencoder.h"

#include "gps/core/device.h"

#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/io/fs.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace gps {

namespace fs = std::filesystem;
namespace nn = torch::nn;

// ---- network ----

AutoencoderNetImpl::AutoencoderNetImpl(int64_t channels_, const AutoencoderOptions& o) : opt(o), channels(channels_) {
  GPS_CHECK(o.input_size >= 16 && o.input_size % 8 == 0, "autoencoder: input size ", o.input_size,
            " must be a multiple of 8 and at least 16");
  const int64_t s = o.input_size / 8, flat = 64 * s * s;
  auto conv = [](int64_t in, int64_t out) { return nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(2).padding(1)); };
  // Upsampling by 2 then a 3x3 convolution rather than a transposed
  // convolution, whose CPU kernel in LibTorch 1.13 was the bottleneck here.
  auto up = [] {
    return nn::Upsample(nn::UpsampleOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
  };
  auto conv3 = [](int64_t in, int64_t out) { return nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)); };
  encoder = register_module("encoder", nn::Sequential(conv(channels, 16), nn::ReLU(), conv(16, 32), nn::ReLU(),
                                                      conv(32, 64), nn::ReLU(), nn::Flatten()));
  to_latent = register_module("to_latent", nn::Linear(flat, o.variational ? 2 * o.latent_dim : o.latent_dim));
  from_latent = register_module("from_latent", nn::Linear(o.latent_dim, flat));
  decoder = register_module(
      "decoder", nn::Sequential(nn::ReLU(), nn::Unflatten(nn::UnflattenOptions(1, {64, s, s})), up(), conv3(64, 32),
                                nn::ReLU(), up(), conv3(32, 16), nn::ReLU(), up(), conv3(16, channels)));
}

torch::Tensor AutoencoderNetImpl::encode(const torch::Tensor& x) {
  auto h = to_latent->forward(encoder->forward(x));
  return opt.variational ? h.narrow(1, 0, opt.latent_dim) : h;
}

torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat) {
  return 0.5 * (x - x_hat).pow(2).flatten(1).sum(1);
}

torch::Tensor gaussian_kl(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1);
}

torch::Tensor AutoencoderNetImpl::loss(const torch::Tensor& x, double* recon, double* kl) {
  auto h = to_latent->forward(encoder->forward(x));
  torch::Tensor z = h, kl_t;
  if (opt.variational) {
    const auto mu = h.narrow(1, 0, opt.latent_dim);
    const auto logvar = h.narrow(1, opt.latent_dim, opt.latent_dim).clamp(-30, 20);
    // The noise comes from the CPU generator (seeded by prior.seed: GlobalRngScope)
    // on every device: the device's own generator is not seeded by the prior.
    const auto noise = torch::randn(mu.sizes(), mu.options().device(torch::kCPU)).to(mu.device());
    z = mu + (0.5 * logvar).exp() * noise;
    kl_t = gaussian_kl(mu, logvar).mean();
  }
  const auto rec = reconstruction_loss(x, decoder->forward(from_latent->forward(z))).mean();
  if (recon) *recon = rec.item<double>();
  if (kl) *kl = kl_t.defined() ? kl_t.item<double>() : 0.0;
  return kl_t.defined() ? rec + opt.beta * kl_t : rec;
}

// ---- prior ----

namespace {

// Runs the autoencoder's training on the global generator seeded with its
// own seed, and puts the caller's generator state back afterwards, so that
// training a prior (or loading it from the cache instead) never changes
// the random stream of the SSL run that follows.
class GlobalRngScope {
 public:
  explicit GlobalRngScope(uint64_t seed) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    saved_ = gen.get_state();
    gen.set_current_seed(seed);
  }
  ~GlobalRngScope() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(saved_);
  }

 private:
  at::Tensor saved_;
};


}  // namespace

AutoencoderOptions autoencoder_options(const PriorConfig& cfg) {
  AutoencoderOptions o;
  o.variational = cfg.kind == "vae";
  o.latent_dim = cfg.latent_dim;
  o.input_size = cfg.input_size > 0 ? cfg.input_size : 32;
  o.epochs = cfg.epochs;
  o.batch_size = cfg.batch_size;
  o.lr = cfg.lr;
  o.beta = cfg.beta;
  o.seed = uint64_t(cfg.seed);
  o.device = resolve_device(cfg.device, "prior.device").str();
  return o;
}

AutoencoderPrior::AutoencoderPrior(const AutoencoderOptions& opt, std::string cache_dir)
    : opt_(opt), cache_dir_(std::move(cache_dir)) {
  GPS_CHECK(opt.input_size >= 16 && opt.input_size % 8 == 0, "prior.input_size=", opt.input_size, ": the ",
            opt.variational ? "vae" : "autoencoder", " needs a multiple of 8 that is at least 16");
  GPS_CHECK(opt.latent_dim > 0 && opt.epochs > 0 && opt.batch_size > 0 && opt.lr > 0 && opt.beta >= 0,
            "autoencoder: latent_dim, epochs, batch_size and lr must be > 0, beta >= 0");
}

std::string AutoencoderPrior::describe() const {
  return str_cat(opt_.variational ? "vae" : "autoencoder", "(latent=", opt_.latent_dim, ",size=", opt_.input_size,
                 ",epochs=", opt_.epochs, ",batch=", opt_.batch_size, ",lr=", opt_.lr,
                 opt_.variational ? str_cat(",beta=", opt_.beta) : std::string(), ",seed=", opt_.seed, ")");
}

torch::Tensor AutoencoderPrior::inputs(const Dataset& d, int64_t start, int64_t n) const {
  auto f = d.rows(start, n).to(torch::kFloat32).div_(255.0f);
  if (f.size(2) != opt_.input_size || f.size(3) != opt_.input_size)
    f = nn::functional::interpolate(f, nn::functional::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{opt_.input_size, opt_.input_size})
                                           .mode(torch::kBilinear)
                                           .align_corners(false));
  const int64_t C = d.channels();
  const auto mean = torch::tensor(mean_).view({1, C, 1, 1});
  const auto std = torch::tensor(std_).view({1, C, 1, 1});
  return ((f - mean) / std).contiguous().to(torch::Device(opt_.device));
}

void AutoencoderPrior::fit(const Dataset& train) { fit_once(train); }

void AutoencoderPrior::fit_once(const Dataset& train) const {
  if (fitted_) return;
  const char* name = opt_.variational ? "vae" : "autoencoder";
  GPS_CHECK(train.size() > 0, "prior.kind=", name, ": no train images to fit on (", train.name, ")");
  GPS_CHECK(train.split != "test", "prior.kind=", name, ": the model is trained on the train split; fit or embed it "
            "before ", train.name);
  mean_ = train.mean;
  std_ = train.std;
  const std::string key = str_cat(describe(), ";data=", train.name, "@", hex64(fingerprint(train)), ";n=", train.size(),
                                  ";c=", train.channels(), ";format=1");
  uint64_t h = 0;
  for (unsigned char c : key) h = mix64(h ^ c);
  const std::string file =
      cache_dir_.empty() ? std::string() : (fs::path(cache_dir_) / (str_cat(name, "-", hex64(h), ".pt"))).string();

  GlobalRngScope rng(opt_.seed);
  net_ = AutoencoderNet(train.channels(), opt_);
  if (!file.empty() && fs::exists(file)) {
    try {
      torch::serialize::InputArchive ar;
      ar.load_from(file);
      c10::IValue saved;
      GPS_CHECK(ar.try_read("gps_key", saved) && saved.isString() && saved.toStringRef() == key,
                "it was trained with other settings or data");
      net_->load(ar);
      net_->to(torch::Device(opt_.device));
      net_->eval();
      fitted_ = true;
      std::fprintf(stderr, "[%s] model reused from %s\n", name, file.c_str());
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "[%s] not reusing %s (%s); training again\n", name, file.c_str(), e.what());
      net_ = AutoencoderNet(train.channels(), opt_);
    }
  }

  net_->to(torch::Device(opt_.device));  // initialised on the CPU: the same weights on every device
  torch::optim::Adam adam(net_->parameters(), torch::optim::AdamOptions(opt_.lr));
  net_->train();
  const int64_t n = train.size();
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t epoch = 0; epoch < opt_.epochs; ++epoch) {
    const auto perm = torch::randperm(n, torch::kInt64);
    double sum = 0, sum_rec = 0, sum_kl = 0;
    int64_t seen = 0;
    for (int64_t s = 0; s < n; s += opt_.batch_size) {
      const int64_t b = std::min(opt_.batch_size, n - s);
      const auto idx = perm.narrow(0, s, b);
      const Dataset batch = select(train, idx);
      const auto x = inputs(batch, 0, b);
      double rec = 0, kl = 0;
      auto loss = net_->loss(x, &rec, &kl);
      adam.zero_grad();
      loss.backward();
      adam.step();
      const double l = loss.item<double>();
      GPS_CHECK(std::isfinite(l), "prior.kind=", name, ": the training loss became ", l, " at epoch ", epoch,
                " (lower prior.lr, now ", opt_.lr, ")");
      sum += l * b, sum_rec += rec * b, sum_kl += kl * b, seen += b;
    }
    final_loss_ = sum / seen;
    if (opt_.verbose) {
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double eta = el / (epoch + 1) * (opt_.epochs - epoch - 1);
      std::fprintf(stderr, "[%s] epoch %lld/%lld | loss %.3f (reconstruction %.3f%s) | %.0f img/s | ETA %.0fs\n", name,
                   static_cast<long long>(epoch + 1), static_cast<long long>(opt_.epochs), final_loss_, sum_rec / seen,
                   opt_.variational ? str_cat(", KL ", sum_kl / seen).c_str() : "", (epoch + 1) * n / el, eta);
    }
  }
  net_->eval();
  fitted_ = true;
  if (!file.empty()) {
    fs::create_directories(cache_dir_);
    torch::serialize::OutputArchive ar;
    net_->to(torch::kCPU);  // a CPU model on disk loads on any machine
    net_->save(ar);
    net_->to(torch::Device(opt_.device));
    ar.write("gps_key", c10::IValue(key));
    std::ostringstream bytes;  // in memory first: see save_checkpoint (a full disk must not abort)
    ar.save_to(bytes);
    atomic_write_text(file, bytes.str(), /*durable=*/false);  // a cache
    std::fprintf(stderr, "[%s] model saved to %s\n", name, file.c_str());
  }
}

torch::Tensor AutoencoderPrior::embed(const Dataset& d) const {
  if (!fitted_) fit_once(d);
  GPS_CHECK(d.channels() == net_->channels, "prior.kind=", opt_.variational ? "vae" : "autoencoder", ": ", d.name,
            " has ", d.channels(), " channels, the model was trained on ", net_->channels);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < d.size(); s += opt_.batch_size)
    parts.push_back(net_->encode(inputs(d, s, std::min(opt_.batch_size, d.size() - s))).cpu());
  GPS_CHECK(!parts.empty(), "prior: nothing to embed in ", d.name);
  return torch::cat(parts, 0).contiguous();
}

}  // namespace gps
