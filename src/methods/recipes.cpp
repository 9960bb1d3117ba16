#include "gps/methods/recipes.h"

namespace gps {

namespace {

// LARS as every LARS recipe sets it (optimizer.kwargs: eta 0.02,
// exclude_bias_n_norm True; clip_lr is always on in gps's LARS).
std::vector<std::pair<std::string, std::string>> lars(const std::string& lr, const std::string& wd) {
  return {{"optim.name", "lars"}, {"optim.lr", lr}, {"optim.weight_decay", wd},
          {"optim.eta", "0.02"},  {"optim.exclude_bias_n_norm", "true"}};
}

MethodRecipe recipe(std::string method, std::string strong, std::vector<std::pair<std::string, std::string>> optim,
                    std::vector<std::pair<std::string, std::string>> keys, std::string file) {
  MethodRecipe r{std::move(method), std::move(strong), std::move(optim), std::move(file)};
  r.keys.insert(r.keys.end(), keys.begin(), keys.end());
  return r;
}

}  // namespace

const std::vector<MethodRecipe>& method_recipes() {
  static const std::vector<MethodRecipe> recipes = {
      recipe("simclr", "symmetric", lars("0.4", "1e-4"),
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "256"}, {"method.temperature", "0.2"}},
             "simclr.yaml"),
      recipe("byol", "asymmetric", lars("1.0", "1e-5"),
             {{"method.proj_hidden_dim", "4096"}, {"method.proj_output_dim", "256"},
              {"method.pred_hidden_dim", "4096"}, {"method.tau_base", "0.99"}},
             "byol.yaml"),
      recipe("nnclr", "asymmetric", lars("0.4", "1e-5"),
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "256"},
              {"method.pred_hidden_dim", "4096"}, {"method.temperature", "0.2"}, {"method.queue_size", "65536"}},
             "nnclr.yaml"),
      recipe("barlow_twins", "asymmetric", lars("0.3", "1e-4"),
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "2048"},
              {"method.barlow_lambda", "0.0051"}, {"method.barlow_scale", "0.1"}},
             "barlow.yaml"),
      recipe("vicreg", "vicreg", lars("0.3", "1e-4"),
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "2048"},
              {"method.vicreg_sim_weight", "25"}, {"method.vicreg_var_weight", "25"},
              {"method.vicreg_cov_weight", "1"}},
             "vicreg.yaml"),
      recipe("mocov3", "asymmetric", lars("0.3", "1e-6"),
             {{"optim.classifier_lr", "0.3"}, {"method.proj_hidden_dim", "4096"}, {"method.proj_output_dim", "256"},
              {"method.pred_hidden_dim", "4096"}, {"method.temperature", "0.2"}, {"method.tau_base", "0.99"}},
             "mocov3.yaml"),
      recipe("simsiam", "symmetric-weak", {{"optim.name", "sgd"}, {"optim.lr", "0.5"}, {"optim.weight_decay", "1e-5"}},
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "2048"}, {"method.pred_hidden_dim", "512"}},
             "simsiam.yaml"),
      recipe("dino", "asymmetric", lars("0.3", "1e-6"),
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "256"},
              {"method.num_prototypes", "4096"}, {"method.tau_base", "0.9995"}},
             "dino.yaml"),
      recipe("swav", "symmetric", lars("0.6", "1e-6"),
             {{"method.proj_hidden_dim", "2048"}, {"method.proj_output_dim", "128"},
              {"method.num_prototypes", "3000"}, {"method.temperature", "0.1"}, {"method.queue_size", "3840"},
              {"method.epoch_queue_starts", "50"}, {"method.freeze_last_layer", "2"}},
             "swav.yaml"),
  };
  return recipes;
}

const MethodRecipe* find_method_recipe(const std::string& method) {
  for (const auto& r : method_recipes())
    if (r.method == method) return &r;
  return nullptr;
}

std::string strong_preset_for(const std::string& method) {
  const MethodRecipe* r = find_method_recipe(method);
  return r ? r->strong_preset : "symmetric";
}

}  // namespace gps
