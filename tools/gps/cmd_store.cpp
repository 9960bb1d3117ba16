// gps data pack / verify: image stores (include/gps/data/image_store.h).
#include "commands.h"

#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/core/threads.h"
#include "gps/data/image_store.h"
#include "gps/data/registry.h"
#include "gps/data/store_pack.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

namespace gps::cli {

namespace {

namespace fs = std::filesystem;

struct PackArgs {
  ConfigArgs cfg;
  std::string out;
  std::string splits = "train,test";
  PackOptions pack;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

int run_pack(const PackArgs& a) {
  Config cfg = load_config(a.cfg.config_path, a.cfg.overrides);
  cfg.data.decode_on_read = true;  // image files: decoded a chunk at a time, never all in memory
  set_threads(int(cfg.train.threads));
  validate(a.pack);
  GPS_CHECK(cfg.data.name != "store" || fs::weakly_canonical(cfg.data.root) != fs::weakly_canonical(a.out),
            "--out ", a.out, " is the store folder being read (data.root); pack into another folder");
  for (const std::string& role : split_list(a.splits)) {
    const auto t0 = std::chrono::steady_clock::now();
    const Dataset d = load_dataset(cfg.data, role);
    const std::string actual = role == "train" ? cfg.data.train_split : role == "test" ? cfg.data.test_split : role;
    const std::string path = store_path(a.out, actual);
    PackOptions o = a.pack;
    o.packed_from = str_cat("data.name=", cfg.data.name, " data.root=", cfg.data.root, " split=", actual,
                            cfg.data.subset > 0 && role == "train" ? str_cat(" data.subset=", cfg.data.subset) : "",
                            cfg.data.test_subset > 0 && role != "train" ? str_cat(" data.test_subset=", cfg.data.test_subset) : "");
    const auto t1 = std::chrono::steady_clock::now();
    double shown = -1;  // one progress line a second at most, with the ETA
    o.on_chunk = [&](int64_t done, int64_t all) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      if (s - shown < 1.0 && done < all) return;
      shown = s;
      const double rate = s > 0 ? double(done) / s : 0.0;
      std::fprintf(stderr, "[pack] %s: %lld / %lld rows (%.0f%%), %.0f rows/s, ETA %.0f s\n", path.c_str(),
                   (long long)done, (long long)all, 100.0 * double(done) / double(all), rate,
                   rate > 0 ? double(all - done) / rate : 0.0);
    };
    const PackResult r = pack_store(d, path, o);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("wrote %s: %lld images [%lld, %lld, %lld] of %s, %s payload, %lld chunks, %.1f MiB in %.1f s%s\n",
                path.c_str(), (long long)r.rows, (long long)d.channels(), (long long)d.height(), (long long)d.width(),
                d.name.c_str(), o.payload.c_str(), (long long)r.chunks, double(r.bytes) / (1 << 20), sec,
                r.resumed_chunks > 0 ? str_cat(" (resumed: ", r.resumed_chunks, " chunks from a killed pack)").c_str()
                                     : "");
  }
  std::printf("train from it: gps train data.name=store data.root=%s\n", a.out.c_str());
  return 0;
}

int run_verify(const std::vector<std::string>& paths, bool decode) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.path().extension() == ".store") files.push_back(e.path().string());
      GPS_CHECK(!files.empty(), p, " holds no .store files");
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  int bad = 0;
  for (const auto& f : files) {
    const auto t0 = std::chrono::steady_clock::now();
    const StoreVerifyReport r = verify_store(f, decode);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.damaged.empty()) {
      std::printf("%s: ok, %lld chunks, %.1f MiB checked in %.1f s%s\n", f.c_str(), (long long)r.chunks,
                  double(r.bytes) / (1 << 20), sec, decode ? " (every row decoded)" : "");
    } else {
      ++bad;
      std::printf("%s: DAMAGED, %zu of %lld chunks:\n", f.c_str(), r.damaged.size(), (long long)r.chunks);
      for (const auto& d : r.damaged) std::printf("  %s\n", d.substr(0, d.find('\n')).c_str());
    }
  }
  return bad > 0 ? 1 : 0;
}

}  // namespace

Runner add_data(CLI::App& app) {
  app.require_subcommand(1);
  auto a = std::make_shared<PackArgs>();
  CLI::App* pack = app.add_subcommand("pack", "write the configured dataset's splits as image stores DIR/<split>.store");
  add_config_args(pack, a->cfg);
  pack->add_option("--out", a->out, "folder of the stores (train with data.name=store data.root=DIR)")->required();
  pack->add_option("--splits", a->splits, "roles or split names to pack, comma-separated")->capture_default_str();
  pack->add_option("--payload", a->pack.payload,
                   "raw: uint8 pixels, read without decoding | jpeg: JPEG files, decoded on the loader threads")
      ->check(CLI::IsMember({"raw", "jpeg"}))
      ->capture_default_str();
  pack->add_option("--chunk-rows", a->pack.chunk_rows, "rows per chunk (0 = about 4 MiB of pixels)")
      ->capture_default_str();
  pack->add_option("--quality", a->pack.quality, "jpeg: quality 1..100")->capture_default_str();
  pack->add_option("--shuffle", a->pack.shuffle_seed,
                   "store the rows in a random order from this seed (-1 = the reader's order; image folders list "
                   "files by class, which data.order=quasi-random would keep together)")
      ->capture_default_str();
  pack->add_option("--max-side", a->pack.max_side,
                   "jpeg of image files: store each file with its shorter side at most M (>= data.image_size), "
                   "resized by data.resize when read (0 = store the decoded data.image_size images)")
      ->capture_default_str();
  auto paths = std::make_shared<std::vector<std::string>>();
  auto decode = std::make_shared<bool>(false);
  CLI::App* verify = app.add_subcommand("verify", "check every chunk of image stores (exit 1 when one is damaged)");
  verify->add_option("paths", *paths, "store files, or folders of them")->required();
  verify->add_flag("--decode", *decode, "jpeg: also decode every row");
  return [a, pack, verify, paths, decode]() {
    if (pack->parsed()) return run_pack(*a);
    return run_verify(*paths, *decode);
  };
}

}  // namespace gps::cli
