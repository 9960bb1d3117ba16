#include "gps/prior/sidecar.h"

#include "gps/augment/pil_resize.h"
#include "gps/core/check.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace gps {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHint = " (write it with scripts/export_prior.py, or set prior.sidecar=none to ignore it)";

int64_t int_field(const nlohmann::json& j, const std::string& path, const char* key, bool required) {
  if (!j.contains(key)) {
    GPS_CHECK(!required, "prior sidecar ", path, ": missing \"", key, "\"", kHint);
    return 0;
  }
  GPS_CHECK(j[key].is_number_integer() && j[key].get<int64_t>() > 0, "prior sidecar ", path, ": \"", key,
            "\" must be a positive integer, got ", j[key].dump());
  return j[key].get<int64_t>();
}

std::vector<float> float_list(const nlohmann::json& j, const std::string& path, const char* key, int64_t n) {
  GPS_CHECK(j.contains(key), "prior sidecar ", path, ": missing \"", key, "\"", kHint);
  const auto& v = j[key];
  GPS_CHECK(v.is_array() && int64_t(v.size()) == n, "prior sidecar ", path, ": \"", key, "\" must be a list of ", n,
            " numbers (one per input channel), got ", v.dump());
  std::vector<float> out;
  for (const auto& x : v) {
    GPS_CHECK(x.is_number(), "prior sidecar ", path, ": \"", key, "\" must hold numbers, got ", v.dump());
    out.push_back(x.get<float>());
  }
  return out;
}

}  // namespace

PriorSidecar read_prior_sidecar(const std::string& path) {
  std::ifstream f(path);
  GPS_CHECK(f, "prior sidecar ", path, ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    GPS_FAIL("prior sidecar ", path, ": not valid JSON: ", e.what(), kHint);
  }
  GPS_CHECK(j.is_object(), "prior sidecar ", path, ": expected a JSON object", kHint);
  const std::string format = j.value("format", "");
  GPS_CHECK(format.rfind("gps-prior/1", 0) == 0, "prior sidecar ", path,
            ": \"format\" must be \"gps-prior/1\", got \"", format, "\"", kHint);
  PriorSidecar s;
  s.path = path;
  s.source = j.value("source", "");
  s.input_size = int_field(j, path, "input_size", true);
  s.in_channels = j.contains("in_channels") ? int_field(j, path, "in_channels", true) : 3;
  GPS_CHECK(s.in_channels == 1 || s.in_channels == 3, "prior sidecar ", path, ": \"in_channels\" must be 1 or 3, got ",
            s.in_channels);
  s.channel_order = j.value("channel_order", "RGB");
  GPS_CHECK(s.channel_order == "RGB" || s.channel_order == "BGR", "prior sidecar ", path,
            ": \"channel_order\" must be \"RGB\" or \"BGR\", got \"", s.channel_order, "\"");
  s.mean = float_list(j, path, "mean", s.in_channels);
  s.std = float_list(j, path, "std", s.in_channels);
  for (float v : s.std) GPS_CHECK(v > 0, "prior sidecar ", path, ": \"std\" entries must be > 0, got ", j["std"].dump());
  s.output_dim = int_field(j, path, "output_dim", false);
  s.resize = j.value("resize", "bilinear");
  GPS_CHECK(s.resize == "bilinear" || s.resize == "pil-bicubic-center-crop", "prior sidecar ", path,
            ": \"resize\" must be \"bilinear\" or \"pil-bicubic-center-crop\", got \"", s.resize, "\"");
  return s;
}

std::string find_prior_sidecar(const PriorConfig& cfg) {
  if (cfg.sidecar == "none") return "";
  if (!cfg.sidecar.empty()) {
    GPS_CHECK(fs::exists(cfg.sidecar), "prior.sidecar: ", cfg.sidecar, " does not exist");
    return cfg.sidecar;
  }
  const std::string beside = cfg.path + ".json";
  return !cfg.path.empty() && fs::exists(beside) ? beside : "";
}

TorchScriptInput resolve_torchscript_input(const PriorConfig& cfg) {
  TorchScriptInput in;
  in.sidecar = find_prior_sidecar(cfg);
  PriorSidecar s;
  if (!in.sidecar.empty()) s = read_prior_sidecar(in.sidecar);
  const bool have = !in.sidecar.empty();
  in.input_size = cfg.input_size > 0 ? cfg.input_size : s.input_size;
  in.in_channels = cfg.in_channels > 0 ? cfg.in_channels : (have ? s.in_channels : 0);
  in.normalize = cfg.normalize != "auto" ? cfg.normalize : (have ? "sidecar" : "dataset");
  if (in.normalize == "sidecar") {
    GPS_CHECK(in.in_channels == s.in_channels, "prior.in_channels=", in.in_channels, " contradicts the sidecar ",
              in.sidecar, " (in_channels ", s.in_channels, ", whose mean/std are used with prior.normalize=auto)");
    in.mean = s.mean;
    in.std = s.std;
  }
  in.bgr = have && s.channel_order == "BGR";
  in.output_dim = s.output_dim;
  in.resize = s.resize;
  return in;
}

std::string TorchScriptInput::describe() const {
  std::string ms;
  for (size_t i = 0; i < mean.size(); ++i) ms += str_cat(i ? "," : "", mean[i], "/", std[i]);
  return str_cat("size=", input_size, ",channels=", in_channels, ",norm=", normalize,
                 normalize == "sidecar" ? "(" + ms + ")" : std::string(), bgr ? ",bgr" : "",
                 resize == "bilinear" ? std::string() : ",resize=" + resize);
}

torch::Tensor model_input_batch(const TorchScriptInput& in, const Dataset& d, int64_t start, int64_t n,
                                const std::string& model_path) {
  const int64_t C = d.channels();
  const int64_t want = in.in_channels > 0 ? in.in_channels : C;
  const std::string from = in.sidecar.empty() ? "prior.in_channels" : "prior.in_channels (or the sidecar " + in.sidecar + ")";
  GPS_CHECK(want == C || (C == 1 && want == 3), model_path, ": ", from, " = ", want, " cannot be made from ", C,
            "-channel images (only gray -> 3 is supported)");
  std::vector<float> mean, std;
  if (in.normalize == "sidecar") {
    mean = in.mean, std = in.std;
  } else if (in.normalize == "dataset") {
    mean = std::vector<float>(want, d.mean[0]);
    std = std::vector<float>(want, d.std[0]);
    if (want == C) mean = d.mean, std = d.std;
  } else if (in.normalize == "imagenet") {
    mean = want == 3 ? std::vector<float>{0.485f, 0.456f, 0.406f} : std::vector<float>{0.449f};
    std = want == 3 ? std::vector<float>{0.229f, 0.224f, 0.225f} : std::vector<float>{0.226f};
  } else {
    mean = std::vector<float>(want, 0.0f);
    std = std::vector<float>(want, 1.0f);
  }
  const auto mean_t = torch::tensor(mean).view({1, want, 1, 1});
  const auto std_t = torch::tensor(std).view({1, want, 1, 1});
  auto x = d.rows(start, n);
  if (want != C) x = x.expand({-1, want, -1, -1});
  if (in.bgr && want == 3) x = x.flip({1});
  if (in.resize == "pil-bicubic-center-crop" && in.input_size > 0)
    x = pil_resize_center_crop(x.contiguous(), in.input_size, PilFilter::bicubic);
  auto f = x.to(torch::kFloat32);
  if (in.input_size > 0 && (f.size(2) != in.input_size || f.size(3) != in.input_size))
    f = torch::nn::functional::interpolate(f, torch::nn::functional::InterpolateFuncOptions()
                                                 .size(std::vector<int64_t>{in.input_size, in.input_size})
                                                 .mode(torch::kBilinear)
                                                 .align_corners(false));
  f = f.div_(255.0f);
  return ((f - mean_t) / std_t).contiguous();
}

}  // namespace gps
