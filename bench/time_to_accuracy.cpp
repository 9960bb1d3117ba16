// Time to accuracy: the curves of finished runs on one figure, and the table
// of their accuracy at given minutes (gps/experiment/time_curve.h).
//
//   build/bench/time_to_accuracy --out docs/time-to-accuracy --minutes 10,20,30 \
//       "GPS-SimCLR w8=runs/tta-gps" "SimCLR w8=runs/tta-plain"
//
// Writes <out>/curve.png and <out>/table.md, and prints the table. With
// --reach P, also the minute at which each run first reaches P % (e.g. the
// peer's final accuracy).
#include "gps/core/check.h"
#include "gps/experiment/time_curve.h"
#include "gps/io/fs.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  CLI::App app{"time to accuracy: curves and table of finished gps runs"};
  std::string out = "tta", title = "Time to accuracy";
  std::vector<double> minutes{10, 20, 30};
  double reach = -1;
  std::vector<std::string> runs;
  app.add_option("--out", out, "output folder (curve.png, table.md)")->capture_default_str();
  app.add_option("--minutes", minutes, "minutes of the table's columns, comma-separated")->delimiter(',');
  app.add_option("--title", title, "the figure's title")->capture_default_str();
  app.add_option("--reach", reach, "also print when each run first reaches this top-1 (%)");
  app.add_option("runs", runs, "LABEL=RUN_DIR, one per finished run")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<gps::TimeCurve> curves;
    for (const auto& r : runs) {
      const auto eq = r.rfind('=');
      GPS_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < r.size(), "'", r,
                "': expected LABEL=RUN_DIR (a run directory of `gps train`)");
      curves.push_back(gps::read_time_curve(r.substr(eq + 1), r.substr(0, eq)));
    }
    std::filesystem::create_directories(out);
    gps::save_time_curves_png((std::filesystem::path(out) / "curve.png").string(), curves, title);
    const std::string table = gps::time_curves_table(curves, minutes);
    gps::atomic_write_text((std::filesystem::path(out) / "table.md").string(), table);
    std::printf("%s", table.c_str());
    if (reach >= 0)
      for (const auto& c : curves) {
        const double m = gps::minutes_to_reach(c, reach);
        std::printf("%s reaches %.2f %% at %s\n", c.label.c_str(), reach,
                    std::isfinite(m) ? (std::to_string(m) + " min").c_str() : "no point (never)");
      }
    std::printf("wrote %s/curve.png and %s/table.md\n", out.c_str(), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
