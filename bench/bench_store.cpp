// Image stores (include/gps/data/image_store.h) at scale, one program, three
// modes. Arguments: mode, then key=value.
//
//   bench_store make out=DIR n=2500000 size=64 channels=3 classes=100 payload=raw
//       packs a synthetic split DIR/train.store without holding it in memory
//       (each row is made when the packer reads it).
//   bench_store prior out=DIR n=2500000 dim=16
//       DIR/prior.npy: [n, dim] float32 embeddings in clusters of ~125 rows,
//       for prior.kind=npy.
//   bench_store read store=DIR/train.store batch=256 seconds=20 window=8 orders=random,quasi-random
//       loader throughput of each order side by side: batches of anchors in
//       that order, each with one GPS positive read at random, from a cold
//       page cache (posix_fadvise DONTNEED on the file before each order).
//   bench_store memory data.root=... [config keys] batch=256 seconds=10 dir=DIR
//       the same images in memory, in a raw store and in a JPEG store: fetch
//       plus the augmentation of a training step, images/s side by side.
// Every mode prints its peak resident set (VmHWM).
#include "bench_util.h"
#include "gps/augment/augment.h"
#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/core/threads.h"
#include "gps/data/image_store.h"
#include "gps/data/registry.h"
#include "gps/data/store_pack.h"
#include "gps/io/npy.h"
#include "gps/sampling/epoch_order.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

using gps::str_cat;


double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Synthetic images made on demand: row r is class r % classes, a smooth
// class pattern plus per-row noise (deterministic in r).
class SyntheticSource final : public gps::ImageSource {
 public:
  SyntheticSource(int64_t n, int64_t c, int64_t s, int64_t classes) : n_(n), c_(c), s_(s), classes_(classes) {}
  int64_t size() const override { return n_; }
  std::array<int64_t, 3> shape() const override { return {c_, s_, s_}; }
  torch::Tensor fetch(const torch::Tensor& index) const override {
    auto out = torch::empty({index.size(0), c_, s_, s_}, torch::kUInt8);
    uint8_t* p = out.data_ptr<uint8_t>();
    const int64_t* rows = index.data_ptr<int64_t>();
    at::parallel_for(0, index.size(0), 16, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const int64_t r = rows[i], k = r % classes_;
        uint64_t h = gps::mix64(uint64_t(r) * 0x9e37u + 1);
        uint8_t* img = p + i * c_ * s_ * s_;
        for (int64_t j = 0; j < c_ * s_ * s_; j += 8) {
          h = gps::mix64(h);
          for (int64_t b = 0; b < 8 && j + b < c_ * s_ * s_; ++b) {
            const int64_t x = (j + b) % s_, y = (j + b) / s_ % s_;
            const int base = int((x * (k % 7 + 1) + y * (k % 5 + 1) + 29 * k) % 200);
            img[j + b] = uint8_t(base + int((h >> (8 * b)) & 31));
          }
        }
      }
    });
    return out;
  }
  uint32_t content_crc() const override { return uint32_t(gps::mix64(uint64_t(n_ * 131 + s_ * 7 + c_))); }
  std::string describe() const override { return "synthetic"; }

 private:
  int64_t n_, c_, s_, classes_;
};

std::map<std::string, std::string> parse(int argc, char** argv, std::vector<std::string>& rest) {
  std::map<std::string, std::string> kv;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    GPS_CHECK(eq != std::string::npos, "expected key=value, got ", a);
    if (a.find('.') < eq) rest.push_back(a); else kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return kv;
}

int64_t num(const std::map<std::string, std::string>& kv, const std::string& k, int64_t def) {
  return kv.count(k) ? std::stoll(kv.at(k)) : def;
}

int make(const std::map<std::string, std::string>& kv) {
  const std::string out = kv.at("out");
  const int64_t n = num(kv, "n", 2500000), s = num(kv, "size", 64), c = num(kv, "channels", 3),
                classes = num(kv, "classes", 100), dim = num(kv, "dim", 16);
  gps::Dataset d;
  d.name = str_cat("synthetic-", n, "x", c, "x", s, "/train");
  d.split = "train";
  d.pixels = std::make_shared<SyntheticSource>(n, c, s, classes);
  d.labels = torch::arange(n, torch::kInt64).remainder(classes);
  d.num_classes = classes;
  d.mean.assign(size_t(c), 0.5f);
  d.std.assign(size_t(c), 0.25f);
  d.source_size = n;
  gps::PackOptions o;
  o.payload = kv.count("payload") ? kv.at("payload") : "raw";
  o.packed_from = "bench_store make";
  const double t0 = now_s();
  int64_t last = 0;
  o.on_chunk = [&](int64_t done, int64_t all) {
    if (done - last >= all / 20 || done == all) {
      std::fprintf(stderr, "[make] %lld / %lld rows, %.0f rows/s\n", (long long)done, (long long)all,
                   double(done) / (now_s() - t0));
      last = done;
    }
  };
  const auto r = gps::pack_store(d, gps::store_path(out, "train"), o);
  const double sec = now_s() - t0;
  std::printf("made %s: %lld rows, %.2f GB, %lld chunks in %.1f s (%.0f MB/s); peak RSS %.0f MiB\n",
              gps::store_path(out, "train").c_str(), (long long)r.rows, double(r.bytes) / 1e9, (long long)r.chunks, sec,
              double(r.bytes) / 1e6 / sec, gps::bench::status_mib("VmHWM"));
  return 0;
}

// Prior embeddings for the store's rows, [n, dim] float32: small clusters
// (about 125 rows each) so that nearest neighbours mean something, as they
// do in a trained network's space.
int prior(const std::map<std::string, std::string>& kv) {
  const std::string out = kv.at("out");
  const int64_t n = num(kv, "n", 2500000), dim = num(kv, "dim", 16), clusters = std::max<int64_t>(1, n / 125);
  torch::manual_seed(1);
  const auto centres = torch::randn({clusters, dim}) * 4;
  auto emb = torch::empty({n, dim});
  for (int64_t b = 0; b < n; b += 1 << 20) {
    const int64_t m = std::min<int64_t>(1 << 20, n - b);
    const auto which = torch::arange(b, b + m, torch::kInt64).mul(7919).remainder(clusters);
    emb.narrow(0, b, m).copy_(centres.index_select(0, which) + torch::randn({m, dim}) * 0.3);
  }
  gps::save_npy(out + "/prior.npy", emb);
  std::printf("wrote %s/prior.npy [%lld, %lld], %lld clusters\n", out.c_str(), (long long)n, (long long)dim,
              (long long)clusters);
  return 0;
}

void drop_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

int read(const std::map<std::string, std::string>& kv) {
  const std::string path = kv.at("store");
  const int64_t B = num(kv, "batch", 256), seconds = num(kv, "seconds", 20), window = num(kv, "window", 8);
  const std::string orders = kv.count("orders") ? kv.at("orders") : "random,quasi-random";
  std::printf("store %s, batches of %lld anchors + %lld random positives, %lld s per order, %d threads\n",
              path.c_str(), (long long)B, (long long)B, (long long)seconds, at::get_num_threads());
  // A process checks each chunk's CRC when it first reads a row of it,
  // which reads the whole chunk: in random order the first pass over a
  // large store is that check. Timed on its own, then the orders on
  // checked chunks, each from a cold page cache.
  const auto store = gps::open_store(path);
  drop_cache(path);
  const double v0 = now_s();
  for (int64_t c = 0; c < store->header().chunks; ++c) store->verify_chunk(c);
  const double vs = now_s() - v0;
  std::printf("  checking every chunk once (what a first epoch adds): %.1f s, %.0f MB/s\n", vs,
              double(store->bytes_read()) / 1e6 / vs);
  std::stringstream ss(orders);
  for (std::string kind; std::getline(ss, kind, ',');) {
    drop_cache(path);
    const int64_t read0 = store->bytes_read();
    const auto order =
        gps::make_epoch_order(store->size(), gps::EpochOrder{kind, store->chunk_rows(), window}, 3, 1, 0);
    gps::Rng rng(5);
    const double t0 = now_s();
    int64_t rows = 0, b = 0;
    while (now_s() - t0 < double(seconds) && (b + 1) * B <= store->size()) {
      const auto anchors = order.narrow(0, b * B, B);
      auto positives = torch::empty({B}, torch::kInt64);
      for (int64_t i = 0; i < B; ++i) positives[i] = int64_t(rng.below(uint64_t(store->size())));
      store->fetch(anchors);
      store->fetch(positives);
      rows += 2 * B;
      ++b;
    }
    const double sec = now_s() - t0;
    std::printf("  %-13s %8.0f images/s  %7.1f MB/s read from the file  (%lld batches)\n", kind.c_str(),
                double(rows) / sec, double(store->bytes_read() - read0) / 1e6 / sec, (long long)b);
  }
  std::printf("peak RSS %.0f MiB\n", gps::bench::status_mib("VmHWM"));
  return 0;
}

int memory(const std::map<std::string, std::string>& kv, const std::vector<std::string>& overrides) {
  const gps::Config cfg = gps::load_config("", overrides);
  const int64_t B = num(kv, "batch", 256), seconds = num(kv, "seconds", 10);
  const std::string dir = kv.count("dir") ? kv.at("dir") : "runs/bench-store";
  const gps::Dataset mem = gps::load_dataset(cfg.data, "train");
  gps::PackOptions raw, jpeg;
  jpeg.payload = "jpeg";
  gps::pack_store(mem, gps::store_path(dir + "/raw", "train"), raw);
  gps::pack_store(mem, gps::store_path(dir + "/jpeg", "train"), jpeg);
  const auto augment = gps::make_augmentation(gps::augment_for(cfg), mem.mean, mem.std);
  std::printf("%s, %lld images [%lld, %lld, %lld], batches of %lld random rows, fetch + %s augmentation (2 views), "
              "%d threads\n",
              mem.name.c_str(), (long long)mem.size(), (long long)mem.channels(), (long long)mem.height(),
              (long long)mem.width(), (long long)B, gps::augment_for(cfg).preset.c_str(), at::get_num_threads());
  for (const std::string kind : {"memory", "raw", "jpeg"}) {
    const gps::Dataset d = kind == "memory" ? mem : gps::store_dataset(gps::store_path(dir + "/" + kind, "train"));
    gps::Rng rng(9);
    const double t0 = now_s();
    int64_t rows = 0, step = 0;
    while (now_s() - t0 < double(seconds)) {
      auto idx = torch::empty({B}, torch::kInt64);
      for (int64_t i = 0; i < B; ++i) idx[i] = int64_t(rng.below(uint64_t(d.size())));
      const auto x = d.fetch(idx);
      const auto pos = torch::arange(step * B, (step + 1) * B, torch::kInt64);
      augment->apply(x, pos, 11, 0);
      augment->apply(x, pos, 12, 1);
      rows += B;
      ++step;
    }
    std::printf("  %-7s %8.0f images/s\n", kind.c_str(), double(rows) / (now_s() - t0));
  }
  std::printf("peak RSS %.0f MiB\n", gps::bench::status_mib("VmHWM"));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    GPS_CHECK(argc >= 2, "usage: bench_store make|prior|read|memory key=value ...");
    std::vector<std::string> overrides;
    const auto kv = parse(argc, argv, overrides);
    gps::set_threads(int(num(kv, "threads", 2)));
    const std::string mode = argv[1];
    if (mode == "make") return make(kv);
    if (mode == "prior") return prior(kv);
    if (mode == "read") return read(kv);
    if (mode == "memory") return memory(kv, overrides);
    GPS_FAIL("unknown mode '", mode, "' (make | prior | read | memory)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
