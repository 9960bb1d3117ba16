#include "gps/experiment/results.h"

#include "gps/core/check.h"
#include "gps/core/env_info.h"
#include "gps/io/plot.h"
#include "gps/train/run_summary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace gps {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> m = {"linear_top1",     "knn_top1",      "recall_at_1",
                                             "recall_at_5",     "linear_val_top1", "train_seconds",
                                             "images_per_second", "final_loss"};
  return m;
}

// A partial assignment of labels: (key index, label) pairs.
using Sel = std::vector<std::pair<size_t, std::string>>;

size_t key_index(const ResultTables& t, const std::string& key) {
  return size_t(std::find(t.keys.begin(), t.keys.end(), key) - t.keys.begin());
}

bool has_key(const ResultTables& t, const std::string& key) { return key_index(t, key) < t.keys.size(); }

bool matches(const CellResult& c, const Sel& s) {
  for (const auto& [k, v] : s)
    if (c.labels[k] != v) return false;
  return true;
}

// Every combination of the labels of `keys`, in grid order (first key slowest).
std::vector<Sel> combos(const ResultTables& t, const std::vector<size_t>& keys) {
  std::vector<Sel> out = {{}};
  for (size_t k : keys) {
    std::vector<Sel> next;
    for (const auto& s : out)
      for (const auto& v : t.orders[k]) {
        Sel e = s;
        e.emplace_back(k, v);
        next.push_back(std::move(e));
      }
    out = std::move(next);
  }
  return out;
}

Sel merge(Sel a, const Sel& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Key indices of `names` present in t, skipping any in `exclude`.
std::vector<size_t> indices(const ResultTables& t, const std::vector<std::string>& names,
                            const std::set<size_t>& exclude = {}) {
  std::vector<size_t> out;
  for (const auto& n : names) {
    const size_t i = key_index(t, n);
    if (i < t.keys.size() && !exclude.count(i) && std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
  }
  return out;
}

// All key indices not in `used`, in key order.
std::vector<size_t> remaining(const ResultTables& t, const std::set<size_t>& used) {
  std::vector<size_t> out;
  for (size_t i = 0; i < t.keys.size(); ++i)
    if (!used.count(i)) out.push_back(i);
  return out;
}

// Values of a metric over the finished cells matching `s` (linear_val_top1 < 0 means "not selected").
MeanStd stat(const ResultTables& t, const Sel& s, const std::string& metric, bool skip_resumed = false) {
  std::vector<double> v;
  for (const auto& c : t.cells) {
    if (c.status != "finished" || !matches(c, s) || (skip_resumed && c.resumed)) continue;
    const auto it = c.metrics.find(metric);
    if (it == c.metrics.end() || !std::isfinite(it->second) || (metric == "linear_val_top1" && it->second < 0)) continue;
    v.push_back(it->second);
  }
  return mean_std(v);
}

bool any_selected(const ResultTables& t, const Sel& s) {
  for (const auto& c : t.cells)
    if (c.selected && matches(c, s)) return true;
  return false;
}

std::string key_title(const std::string& key) {
  if (key == "method.name") return "method";
  if (key == "augment.preset") return "augment";
  if (key == "gps") return "GPS";
  if (key == "train.seed") return "seed";
  if (key == "optim.lr") return "lr";
  return key;
}

std::string join_display(const ResultTables& t, const Sel& s, const std::string& sep) {
  std::string out;
  for (const auto& [k, v] : s) out += (out.empty() ? "" : sep) + display_label(t.keys[k], v);
  return out.empty() ? "all" : out;
}

std::string heading(const ResultTables& t, const Sel& s) {
  std::string out;
  for (const auto& [k, v] : s) out += (out.empty() ? "" : ", ") + t.keys[k] + " = " + v;
  return out;
}

std::string md_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  // Display width: "±" and "–" are one column but two or three bytes.
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  auto line = [&](const std::vector<std::string>& cells, bool right) {
    std::string s = "|";
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string pad(w[i] - width(cells[i]), ' ');
      s += " " + ((right && i > 0) ? pad + cells[i] : cells[i] + pad) + " |";
    }
    return s + "\n";
  };
  std::string out = line(header, false) + "|";
  for (size_t i = 0; i < header.size(); ++i) out += (i == 0 ? std::string(w[i] + 2, '-') : std::string(w[i] + 1, '-') + ":") + "|";
  out += "\n";
  for (const auto& r : rows) out += line(r, true);
  return out;
}

// Sections (one per combination of the keys not in rows / columns / average),
// each a table: rows x columns of mean ± std of `metric`.
std::string pivot(const ResultTables& t, const std::vector<size_t>& R, const std::vector<size_t>& C, size_t A,
                  const std::string& metric, int decimals) {
  std::set<size_t> used(R.begin(), R.end());
  used.insert(C.begin(), C.end());
  used.insert(A);
  const auto S = remaining(t, used);
  std::string out;
  for (const auto& sec : combos(t, S)) {
    if (!S.empty()) out += "**" + heading(t, sec) + "**\n\n";
    std::string corner;
    for (size_t k : R) corner += (corner.empty() ? "" : " / ") + key_title(t.keys[k]);
    std::vector<std::string> header = {corner.empty() ? "" : corner};
    const auto cols = combos(t, C);
    for (const auto& c : cols) header.push_back(join_display(t, c, " / "));
    const auto rows = combos(t, R);
    std::vector<std::vector<MeanStd>> m(rows.size(), std::vector<MeanStd>(cols.size()));
    for (size_t r = 0; r < rows.size(); ++r)
      for (size_t c = 0; c < cols.size(); ++c) m[r][c] = stat(t, merge(merge(sec, rows[r]), cols[c]), metric);
    std::vector<std::vector<std::string>> body;
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<std::string> line = {join_display(t, rows[r], " / ")};
      for (size_t c = 0; c < cols.size(); ++c) {
        std::string v = format_mean_std(m[r][c], decimals);
        // Bold the best mean of the column when there is a choice.
        int filled = 0;
        double best = -INFINITY;
        for (size_t q = 0; q < rows.size(); ++q)
          if (m[q][c].n > 0) ++filled, best = std::max(best, m[q][c].mean);
        if (filled >= 2 && m[r][c].n > 0 && m[r][c].mean == best) v = "**" + v + "**";
        if (any_selected(t, merge(merge(sec, rows[r]), cols[c]))) v += " †";
        line.push_back(v);
      }
      body.push_back(std::move(line));
    }
    out += md_table(header, body) + "\n";
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

Config shown_config(const ExperimentSpec& spec) {
  Config c = spec.base;
  c.apply_overrides(spec.overrides);
  return c;
}

int64_t finished_count(const ResultTables& t) {
  int64_t n = 0;
  for (const auto& c : t.cells) n += c.status == "finished";
  return n;
}

// "Measured on: <CPU and flags, cores, threads; GPU>" from the finished cells'
// env.json files (each distinct machine once), so that a table re-rendered
// elsewhere still names where its numbers came from.
std::string measured_on(const ResultTables& t) {
  std::set<std::string> lines;
  for (const auto& cell : t.cells) {
    if (cell.status != "finished") continue;
    std::ifstream f(std::filesystem::path(cell.run_dir) / "env.json");
    if (!f) continue;
    const auto j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded()) continue;
    try {
      lines.insert(hardware_line(j));
    } catch (const std::exception&) {
      // an env.json of another version: not ours to read
    }
  }
  if (lines.empty()) return "Measured on: not recorded (the cells have no env.json)\n\n";
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
  return "Measured on: " + out + "\n\n";
}

std::string settings_line(const ResultTables& t, const ExperimentSpec& spec) {
  const Config c = shown_config(spec);
  std::string avg = "one run per entry";
  const size_t A = key_index(t, spec.average);
  if (A < t.keys.size())
    avg = t.orders[A].size() == 1 ? str_cat("one run (", spec.average, " = ", t.orders[A][0], ")")
                                   : str_cat("mean ± sample std (n - 1) over ", t.orders[A].size(), " values of ",
                                             spec.average);
  return str_cat("Base settings: ", c.data.name, " (train subset ", c.data.subset == 0 ? std::string("all") : std::to_string(c.data.subset),
                 "), ", c.model.arch, " width ", c.model.width, ", ", c.optim.epochs, " epochs, batch ",
                 c.optim.batch_size, ", prior ", c.prior.kind, ", k = ", c.neighbors.rules.k, " (grid values and per-method "
                 "settings override these). Entries: ", avg, ". **Bold**: best in its column. –: no finished cell. ",
                 "Finished cells: ", finished_count(t), " of ", t.cells.size(), ".\n\n");
}

std::vector<size_t> row_keys(const ResultTables& t, const ExperimentSpec& spec, size_t A) {
  return indices(t, spec.rows, {A});
}

std::vector<size_t> column_keys(const ResultTables& t, const ExperimentSpec& spec, size_t A) {
  const auto R = row_keys(t, spec, A);
  std::set<size_t> ex(R.begin(), R.end());
  ex.insert(A);
  return indices(t, spec.columns, ex);
}

}  // namespace

std::string fixed_decimals(double v, int decimals) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string display_label(const std::string& key, const std::string& label) {
  if (key == "gps") return label == "true" ? "GPS" : label == "false" ? "plain" : label;
  if (key == "method.name") {
    static const std::map<std::string, std::string> names = {
        {"simclr", "SimCLR"}, {"byol", "BYOL"},       {"nnclr", "NNCLR"}, {"barlow_twins", "Barlow Twins"},
        {"vicreg", "VICReg"}, {"mocov3", "MoCo v3"},  {"simsiam", "SimSiam"}, {"dino", "DINO"},
        {"swav", "SwAV"}};
    const auto it = names.find(label);
    return it == names.end() ? label : it->second;
  }
  if (key == "train.seed") return "seed " + label;
  return label;
}

CellResult read_cell_result(const std::string& run_dir) {
  CellResult r;
  r.run_dir = run_dir;
  r.id = fs::path(run_dir).filename().string();
  std::optional<RunSummary> summary;
  try {
    summary = find_run_summary(run_dir);
  } catch (const Error& e) {
    GPS_FAIL(e.what(), "\n---> HINT: a damaged run; delete the cell's folder to retrain it");
  }
  if (!summary) return r;
  r.status = summary->interrupted ? "interrupted" : "finished";
  std::ifstream m((fs::path(run_dir) / "metrics.jsonl").string());
  for (std::string line; std::getline(m, line);) {
    if (line.find("\"resume\"") == std::string::npos) continue;
    const auto rec = nlohmann::json::parse(line, nullptr, false);
    if (!rec.is_discarded() && rec.value("event", "") == "resume") r.resumed = true;
  }
  if (r.status != "finished") return r;
  r.metrics["train_seconds"] = summary->train_seconds;
  r.metrics["images_per_second"] = summary->images_per_second;
  r.metrics["final_loss"] = summary->final_loss;
  if (const EvalResult& e = summary->eval; e.done) {
    r.metrics["linear_top1"] = e.linear_top1;
    r.metrics["knn_top1"] = e.knn_top1;
    r.metrics["recall_at_1"] = e.recall_at_1;
    r.metrics["recall_at_5"] = e.recall_at_5;
    r.metrics["linear_val_top1"] = e.linear_val_top1;
  }
  return r;
}

ResultTables make_result_tables(const ExperimentSpec& spec, const std::vector<GridCell>& cells,
                                const std::vector<CellResult>& results) {
  GPS_CHECK(cells.size() == results.size(), "make_result_tables: ", cells.size(), " cells but ", results.size(),
            " results");
  ResultTables t;
  for (const auto& a : spec.axes) {
    t.keys.push_back(a.key);
    t.orders.emplace_back();
    for (const auto& v : a.values) t.orders.back().push_back(v.label);
  }
  // Row / column keys the grid does not vary: a constant label from the base config.
  std::vector<std::string> constants;
  const Config base = shown_config(spec);
  for (const auto& list : {spec.rows, spec.columns})
    for (const auto& k : list) {
      if (has_key(t, k)) continue;
      std::string v;
      try {
        v = base.get(k);
      } catch (const Error&) {
        GPS_FAIL("experiment.rows / columns: '", k, "' is neither a grid key nor a config key");
      }
      t.keys.push_back(k);
      t.orders.push_back({v});
      constants.push_back(v);
    }
  for (size_t i = 0; i < cells.size(); ++i) {
    CellResult r = results[i];
    r.id = cells[i].id;
    r.labels = cells[i].labels;
    r.labels.insert(r.labels.end(), constants.begin(), constants.end());
    t.cells.push_back(std::move(r));
  }
  return t;
}

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd m;
  m.n = int64_t(v.size());
  if (v.empty()) return m;
  double s = 0;
  for (double x : v) s += x;
  m.mean = s / double(v.size());
  if (v.size() >= 2) {
    double q = 0;
    for (double x : v) q += (x - m.mean) * (x - m.mean);
    m.std = std::sqrt(q / double(v.size() - 1));
  }
  return m;
}

std::string format_mean_std(const MeanStd& m, int decimals) {
  if (m.n == 0) return "–";
  if (m.n == 1) return fixed_decimals(m.mean, decimals);
  return fixed_decimals(m.mean, decimals) + " ± " + fixed_decimals(m.std, decimals);
}

std::string cells_csv(const ResultTables& t) {
  std::string out = "cell";
  for (const auto& k : t.keys) out += "," + csv_field(k);
  out += ",status,resumed,selected";
  for (const auto& m : metric_names()) out += "," + m;
  out += ",run_dir\n";
  for (const auto& c : t.cells) {
    out += csv_field(c.id);
    for (const auto& l : c.labels) out += "," + csv_field(l);
    out += "," + c.status + "," + (c.resumed ? "true" : "false") + "," + (c.selected ? "true" : "false");
    for (const auto& m : metric_names()) {
      const auto it = c.metrics.find(m);
      out += "," + (it == c.metrics.end() ? std::string() : fixed_decimals(it->second, 4));
    }
    out += "," + csv_field(c.run_dir) + "\n";
  }
  return out;
}

std::string results_csv(const ResultTables& t, const std::string& average) {
  const size_t A = key_index(t, average);
  const auto K = remaining(t, {A});
  std::string out;
  for (size_t k : K) out += csv_field(t.keys[k]) + ",";
  out += "n";
  for (const auto& m : metric_names()) out += "," + m + "_mean," + m + "_std";
  out += "\n";
  for (const auto& s : combos(t, K)) {
    for (const auto& [k, v] : s) out += csv_field(v) + ",";
    out += std::to_string(stat(t, s, "linear_top1").n);
    for (const auto& m : metric_names()) {
      const MeanStd st = stat(t, s, m);
      out += "," + (st.n ? fixed_decimals(st.mean, 4) : "") + "," + (st.n >= 2 ? fixed_decimals(st.std, 4) : "");
    }
    out += "\n";
  }
  return out;
}

std::string results_markdown(const ResultTables& t, const ExperimentSpec& spec) {
  const size_t A = key_index(t, spec.average);
  const auto R = row_keys(t, spec, A), C = column_keys(t, spec, A);
  const Config c = shown_config(spec);
  std::string md = "# " + spec.name + ": accuracy on the test split (Table 2 layout)\n\n";
  md += settings_line(t, spec);
  md += measured_on(t);
  md += "Augmentation presets (augment.preset): weak = RHFlipAug (horizontal flip only); strong = SimCLR-style "
        "random resized crop, flip, colour jitter, grey and blur (`gps augment-grid` shows any preset). GPS = "
        "positives drawn from the prior's nearest neighbours; plain = two views of the same image.\n\n";
  md += "## Linear probe top-1 (%)\n\n" + pivot(t, R, C, A, "linear_top1", 2);
  md += str_cat("## Weighted kNN top-1 (%) (k = ", c.eval.knn_k, ", ", c.eval.knn_metric, ")\n\n") +
        pivot(t, R, C, A, "knn_top1", 2);
  md += str_cat("## Recall@1 (%), leave-one-out retrieval inside the test split (", c.eval.knn_metric, ")\n\n") +
        pivot(t, R, C, A, "recall_at_1", 2);
  if (std::any_of(t.cells.begin(), t.cells.end(), [](const CellResult& c) { return c.selected; }))
    md += "†: chosen on validation (experiment.select; the best-of-grid table below).\n\n";
  std::string missing;
  for (const auto& cell : t.cells)
    if (cell.status != "finished") missing += "- " + cell.id + ": " + cell.status + "\n";
  if (!missing.empty()) md += "Cells without results:\n\n" + missing;
  return md;
}

std::string runtime_markdown(const ResultTables& t, const ExperimentSpec& spec) {
  const size_t A = key_index(t, spec.average), G = key_index(t, "gps");
  const auto R = row_keys(t, spec, A);
  std::set<size_t> used(R.begin(), R.end());
  used.insert(A);
  used.insert(G);
  std::vector<size_t> rows_k = R;
  for (size_t k : remaining(t, used)) rows_k.push_back(k);
  const std::vector<std::string> gps_values = G < t.keys.size() ? t.orders[G] : std::vector<std::string>{""};
  std::string md = "# " + spec.name + ": training time (Figure 4)\n\n";
  md += "Seconds of the optimisation loop (table build and evaluation excluded), mean ± sample std over " +
        (A < t.keys.size() ? spec.average : std::string("runs")) +
        "; img/s = anchor images per second. Cells continued after an interruption are left out (their time "
        "covers the last session only).\n\n";
  md += measured_on(t);
  std::vector<std::string> header;
  std::string corner;
  for (size_t k : rows_k) corner += (corner.empty() ? "" : " / ") + key_title(t.keys[k]);
  header.push_back(corner);
  for (const auto& g : gps_values) header.push_back((G < t.keys.size() ? display_label("gps", g) + " " : "") + "time (s)");
  const bool ratio = G < t.keys.size() && gps_values.size() == 2;
  if (ratio) header.push_back(display_label("gps", gps_values[1]) + " / " + display_label("gps", gps_values[0]));
  for (const auto& g : gps_values) header.push_back((G < t.keys.size() ? display_label("gps", g) + " " : "") + "img/s");
  std::vector<std::vector<std::string>> body;
  for (const auto& r : combos(t, rows_k)) {
    std::vector<std::string> line = {join_display(t, r, " / ")};
    std::vector<MeanStd> secs;
    for (const auto& g : gps_values) {
      Sel s = r;
      if (G < t.keys.size()) s.emplace_back(G, g);
      secs.push_back(stat(t, s, "train_seconds", true));
      line.push_back(format_mean_std(secs.back(), 1));
    }
    if (ratio) line.push_back(secs[0].n && secs[1].n ? fixed_decimals(secs[1].mean / secs[0].mean, 2) : "–");
    for (const auto& g : gps_values) {
      Sel s = r;
      if (G < t.keys.size()) s.emplace_back(G, g);
      line.push_back(format_mean_std(stat(t, s, "images_per_second", true), 0));
    }
    body.push_back(std::move(line));
  }
  return md + md_table(header, body);
}

std::string lr_markdown(const ResultTables& t, const ExperimentSpec& spec) {
  const size_t L = key_index(t, "optim.lr");
  bool axis = false;
  for (const auto& a : spec.axes) axis = axis || (a.key == "optim.lr" && a.values.size() >= 2);
  if (!axis) return "";
  const size_t A = key_index(t, spec.average);
  std::vector<size_t> C;
  for (size_t k : indices(t, spec.rows, {A, L})) C.push_back(k);
  const size_t G = key_index(t, "gps");
  if (G < t.keys.size() && std::find(C.begin(), C.end(), G) == C.end()) C.push_back(G);
  std::string md = "# " + spec.name + ": sensitivity to the learning rate (Table 1, right)\n\n";
  md += settings_line(t, spec);
  md += "## Linear probe top-1 (%)\n\n" + pivot(t, {L}, C, A, "linear_top1", 2);
  md += "## Weighted kNN top-1 (%)\n\n" + pivot(t, {L}, C, A, "knn_top1", 2);
  return md;
}

bool write_lr_plot(const std::string& path, const ResultTables& t, const ExperimentSpec& spec) {
  if (lr_markdown(t, spec).empty()) return false;
  const size_t L = key_index(t, "optim.lr"), A = key_index(t, spec.average);
  std::vector<PlotSeries> series;
  for (const auto& s : combos(t, remaining(t, {L, A}))) {
    PlotSeries p;
    p.label = join_display(t, s, " ");
    for (const auto& lr : t.orders[L]) {
      const MeanStd m = stat(t, merge(s, {{L, lr}}), "linear_top1");
      p.x.push_back(std::stod(lr));
      p.y.push_back(m.n ? m.mean : NAN);
    }
    series.push_back(std::move(p));
  }
  bool any = false;
  for (const auto& s : series)
    for (double y : s.y) any = any || std::isfinite(y);
  if (!any) return false;
  PlotOptions o;
  o.title = spec.name + ": linear probe against learning rate";
  o.x_label = "optim.lr (log scale)";
  o.y_label = "linear top-1 (%)";
  o.log_x = true;
  save_line_plot(path, series, o);
  return true;
}

bool write_runtime_plot(const std::string& path, const ResultTables& t, const ExperimentSpec& spec) {
  const size_t A = key_index(t, spec.average), G = key_index(t, "gps");
  const auto R = row_keys(t, spec, A);
  std::set<size_t> used(R.begin(), R.end());
  used.insert(A);
  used.insert(G);
  std::vector<size_t> groups_k = R;
  for (size_t k : remaining(t, used)) groups_k.push_back(k);
  BarChart chart;
  const std::vector<std::string> gps_values = G < t.keys.size() ? t.orders[G] : std::vector<std::string>{""};
  for (const auto& g : gps_values) chart.series.push_back(G < t.keys.size() ? display_label("gps", g) : "time");
  chart.values.assign(gps_values.size(), {});
  chart.errors.assign(gps_values.size(), {});
  bool any = false;
  for (const auto& r : combos(t, groups_k)) {
    chart.groups.push_back(join_display(t, r, " "));
    for (size_t i = 0; i < gps_values.size(); ++i) {
      Sel s = r;
      if (G < t.keys.size()) s.emplace_back(G, gps_values[i]);
      const MeanStd m = stat(t, s, "train_seconds", true);
      chart.values[i].push_back(m.n ? m.mean : NAN);
      chart.errors[i].push_back(m.n >= 2 ? m.std : NAN);
      any = any || m.n > 0;
    }
  }
  if (!any) return false;
  PlotOptions o;
  o.title = spec.name + ": training time, plain vs GPS";
  o.y_label = "seconds";
  o.width = std::max<int64_t>(720, int64_t(chart.groups.size() * chart.series.size()) * 60 + 120);
  save_bar_chart(path, chart, o);
  return true;
}

bool write_training_curves(const std::string& run_dir) {
  std::ifstream f((fs::path(run_dir) / "metrics.jsonl").string());
  if (!f) return false;
  PlotSeries loss{"loss", {}, {}}, knn{"kNN top-1 (%)", {}, {}};
  for (std::string line; std::getline(f, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    const std::string event = j.value("event", "");
    if (event.empty() && j.contains("loss") && j["loss"].is_number() && std::isfinite(j["loss"].get<double>()) &&
        j.contains("step")) {
      loss.x.push_back(j["step"].get<double>());
      loss.y.push_back(j["loss"].get<double>());
    } else if (event == "knn" && j.contains("knn_top1") && j.contains("epoch")) {
      knn.x.push_back(j["epoch"].get<double>());
      knn.y.push_back(j["knn_top1"].get<double>());
    }
  }
  if (loss.x.empty()) return false;
  const std::string name = fs::path(run_dir).filename().string();
  PlotOptions o;
  o.title = name + ": training loss";
  o.x_label = "step";
  o.y_label = "loss";
  save_line_plot((fs::path(run_dir) / "curves.png").string(), {loss}, o);
  if (!knn.x.empty()) {
    o.title = name + ": kNN accuracy during training";
    o.x_label = "epoch";
    o.y_label = "kNN top-1 (%)";
    save_line_plot((fs::path(run_dir) / "knn.png").string(), {knn}, o);
  }
  return true;
}

}  // namespace gps
