#include "gps/eval/eval_config.h"

#include "gps/core/check.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace gps {

void validate(const EvalConfig& eval) {
  GPS_CHECK(eval.features == "backbone" || eval.features == "projector", "eval.features: '", eval.features,
            "' (expected backbone | projector)");
  GPS_CHECK(eval.linear == "adam" || eval.linear == "sgd-grid", "eval.linear: '", eval.linear,
            "' (expected adam | sgd-grid)");
  if (eval.linear == "sgd-grid") parse_number_list("eval.sgd_lr_grid", eval.sgd_lr_grid);
  if (eval.linear_select == "val") {
    parse_number_list("eval.linear_lr_grid", eval.linear_lr_grid);
    parse_number_list("eval.linear_wd_grid", eval.linear_wd_grid);
  }
}

std::vector<double> parse_number_list(const std::string& key, const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    GPS_CHECK(b != std::string::npos, key, ": empty entry in '", text, "' (expected numbers separated by commas)");
    item = item.substr(b, e - b + 1);
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    GPS_CHECK(end == item.c_str() + item.size() && std::isfinite(v) && v >= 0, key, ": '", item,
              "' is not a non-negative number (expected e.g. 1e-3,0.01,0.1)");
    out.push_back(v);
  }
  GPS_CHECK(!out.empty(), key, ": expected at least one number, got '", text, "'");
  return out;
}

}  // namespace gps
