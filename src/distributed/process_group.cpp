#include "gps/distributed/process_group.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/distributed/backend.h"

// Torch's CMake package defines USE_C10D_GLOO when its build has Gloo
// (Debian's does); the header then needs <gloo/...> from libgloo-dev.
#ifndef USE_C10D_GLOO
#error "this LibTorch was built without Gloo (USE_C10D_GLOO): several-process training needs it"
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace gps::dist {

namespace {

// The integer in environment variable `name`, or `fallback` when unset.
int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  GPS_CHECK(errno == 0 && end != v && *end == '\0', "environment variable ", name, "='", v,
            "' is not an integer");
  GPS_CHECK(x >= lo && x <= hi, "environment variable ", name, "=", x, " is out of range [", lo, ", ", hi, "]");
  return int(x);
}

// The first line of a c10d error (the rest is a C++ stack trace).
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

}  // namespace

DistEnv DistEnv::from_env() {
  DistEnv e;
  e.world = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = env_int("RANK", 0, 0, 1 << 20);
  GPS_CHECK(e.rank < e.world, "environment variable RANK=", e.rank, " must be below WORLD_SIZE=", e.world);
  GPS_CHECK(e.world == 1 || std::getenv("RANK") != nullptr, "environment variable WORLD_SIZE=", e.world,
            " needs RANK as well (0 .. ", e.world - 1, ")");
  e.local_world = env_int("LOCAL_WORLD_SIZE", e.world, 1, e.world);
  e.local_rank = env_int("LOCAL_RANK", e.rank, 0, 1 << 20);
  GPS_CHECK(e.local_rank < e.local_world, "environment variable LOCAL_RANK=", e.local_rank,
            " must be below LOCAL_WORLD_SIZE=", e.local_world, " (LOCAL_WORLD_SIZE defaults to WORLD_SIZE)");
  e.port = env_int("MASTER_PORT", 29500, 1, 65535);
  e.timeout_s = env_int("GPS_DIST_TIMEOUT_S", 1800, 1, 7 * 24 * 3600);
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); v != nullptr) e.cuda_visible_devices = v;
  if (const char* a = std::getenv("MASTER_ADDR"); a != nullptr && *a != '\0') e.master_addr = a;
  return e;
}

int64_t DistEnv::cuda_index(int64_t visible) const {
  GPS_CHECK(visible > 0, "train.device: no CUDA device is visible to this process (LOCAL_RANK=", local_rank, ")");
  if (local_rank < visible) return local_rank;  // torchrun's convention: every GPU of the machine visible
  // A scheduler that gives each rank its own GPU (CUDA_VISIBLE_DEVICES=<one
  // GPU>) leaves this process one device, whatever its local rank.
  if (visible == 1 && !cuda_visible_devices.empty()) return 0;
  GPS_FAIL("train.device: LOCAL_RANK=", local_rank, " trains on cuda:", local_rank, ", but this process sees ", visible,
           " CUDA device", visible == 1 ? "" : "s", visible == 1 ? " and CUDA_VISIBLE_DEVICES is unset" : "",
           "\n---> HINT: start at most ", visible, " processes per machine (gps launch --nproc ", visible,
           "), or give each process its own GPU with CUDA_VISIBLE_DEVICES");
}

torch::Device DistEnv::device_for(const std::string& spec) const {
  const torch::Device named = resolve_device(spec);
  if (!named.is_cuda()) return named;
  if (spec == "auto" || spec == "cuda") {
    const int64_t index = cuda_index(int64_t(torch::cuda::device_count()));
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  GPS_CHECK(local_world == 1, "train.device=", spec, " names one GPU for all ", local_world,
            " processes on this machine, and NCCL needs one GPU per process"
            "\n---> HINT: train.device=cuda gives local rank r the GPU cuda:r");
  return named;
}

int DistEnv::threads_per_process(int threads) const {
  const int total = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, total / std::max(1, local_world));
}

// Every rank's heartbeat: a thread that adds 1 to the store key
// gps/alive/<rank> twice a second, for as long as the group lives, and keeps
// the verdict (gps/verdict) once a rank has written one. When a collective
// fails, the ranks whose count stopped are the lost ones; a rank that finds
// the store gone (rank 0 serves it and has left) still knows the verdict.
struct Heartbeat {
  static constexpr std::chrono::milliseconds kPeriod{500};
  std::mutex m;
  std::condition_variable cv;
  bool stop = false, stopped = false;
  std::string verdict;  // gps/verdict as last read: the lost ranks, "1,2"

  static void run(std::shared_ptr<Heartbeat> h, c10::intrusive_ptr<c10d::TCPStore> st, int me) {
    const std::string alive = str_cat("gps/alive/", me);
    std::unique_lock<std::mutex> lock(h->m);
    while (!h->stop) {
      lock.unlock();
      std::string seen;
      try {
        st->add(alive, 1);
        if (st->check({"gps/verdict"})) {
          const auto v = st->get("gps/verdict");
          seen.assign(v.begin(), v.end());
        }
      } catch (const std::exception&) {  // the store is gone or cut off: the collectives will say so
      }
      lock.lock();
      if (!seen.empty()) h->verdict = seen;
      h->cv.wait_for(lock, kPeriod, [&] { return h->stop; });
    }
    h->stopped = true;
    h->cv.notify_all();
  }
};

struct Group::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::Backend> pg;  // ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA)
  torch::Device device = torch::kCPU;     // where the backend's tensors must live
  int64_t shared_keys = 0;                // share_string calls so far: a fresh store key each time
  std::string where;                      // the store's address, MASTER_ADDR:MASTER_PORT
  int rank = 0, world = 1, timeout_s = 0;
  int64_t step = -1;                      // Group::set_step
  std::shared_ptr<Heartbeat> heartbeat;   // null for a group of one
  // NCCL: the newest collective queued on the device and not yet seen
  // complete. Its wait() does not block the host, so a lost rank shows only
  // here (wait_pending), not in wait(). One communicator runs its
  // collectives in order on one stream: when the newest is done, all are.
  c10::intrusive_ptr<c10d::Work> pending;
  bool failed = false;                    // lost() ran: the backend is aborted, not shut down

  void start_heartbeat() {
    if (world == 1) return;
    heartbeat = std::make_shared<Heartbeat>();
    std::thread(Heartbeat::run, heartbeat, store, rank).detach();
  }
  // Stops the heartbeat; waits a moment for its thread (one behind a cut
  // link may never return, and is left to the process's exit).
  ~Impl() {
    if (pg && device.is_cuda()) {  // NCCL: free the communicators (torch warns when a group is left unshut)
      try {
        if (failed) pg->abort();
        else pg->shutdown();
      } catch (const std::exception&) {
      }
    }
    if (!heartbeat) return;
    std::unique_lock<std::mutex> lock(heartbeat->m);
    heartbeat->stop = true;
    heartbeat->cv.notify_all();
    heartbeat->cv.wait_for(lock, std::chrono::seconds(2), [&] { return heartbeat->stopped; });
  }

  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      lost(what, e);
    }
    if (device.is_cuda()) pending = work;
  }

  // Forgets the pending collective once it is done; one that failed is a lost rank.
  void drop_completed(const char* what) {
    try {
      if (pending && pending->isCompleted()) pending.reset();
    } catch (const std::exception& e) {
      lost(what, e);
    }
  }

  // Waits, on the host, until every pending collective is done. Polls rather
  // than blocks, so that a rank that died (its heartbeat stopped) or a
  // collective past GPS_DIST_TIMEOUT_S is named by lost(), instead of the
  // host hanging in a device copy until NCCL's watchdog aborts the process.
  void wait_pending() {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    auto next_look = start + std::chrono::seconds(1);
    std::vector<int64_t> beats(size_t(world), -1);
    std::vector<Clock::time_point> heard(size_t(world), start);
    const auto stall = 10 * Heartbeat::kPeriod;  // 5 s without a beat: that rank is gone
    auto nap = std::chrono::microseconds(20);
    for (;;) {
      drop_completed("collective");
      if (!pending) return;
      const auto now = Clock::now();
      if (now - start > std::chrono::seconds(timeout_s))
        lost("collective", std::runtime_error(str_cat("an NCCL collective did not complete within GPS_DIST_TIMEOUT_S=",
                                                      timeout_s, " s")));
      if (heartbeat && now >= next_look) {
        next_look = now + std::chrono::seconds(1);
        for (int q = 0; q < world; ++q) {
          if (q == rank) continue;
          int64_t b = -1;
          try {
            b = store->add(str_cat("gps/alive/", q), 0);
          } catch (const std::exception& e) {
            lost("collective", e);  // the store (rank 0) is gone
          }
          if (b != beats[size_t(q)]) beats[size_t(q)] = b, heard[size_t(q)] = now;
          else if (now - heard[size_t(q)] > stall)
            lost("collective", std::runtime_error(str_cat("an NCCL collective waits on rank ", q,
                                                          ", whose heartbeat stopped")));
        }
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds(1000));
    }
  }

  // A collective failed: a rank died, its link is down, or it did not answer
  // within GPS_DIST_TIMEOUT_S. A rank that sees the failure marks itself in
  // the store (gps/lost/<rank>: "I am here") and watches the others for a few
  // seconds: a rank with a mark, or whose heartbeat goes on, is alive (it may
  // still be waiting on its own collective); the rest are lost. The first
  // verdict goes into the store (gps/verdict); ranks that come later take it.
  // When the store itself is unreachable, rank 0 (which serves it) is lost,
  // or this host's link is, unless the heartbeat already read a verdict.
  [[noreturn]] void lost(const char* what, const std::exception& e) {
    using Clock = std::chrono::steady_clock;
    failed = true;
    pending.reset();
    const auto grace = std::chrono::seconds(std::min(timeout_s, 4));
    const std::string when = step >= 0 ? str_cat("at step ", step) : std::string("before the first step");
    // The store is asked on a thread of its own: a store behind a cut link
    // does not answer, and its client waits without a limit.
    struct Verdict {
      std::mutex m;
      std::condition_variable cv;
      bool done = false, store_ok = false;
      std::string missing;  // "1,2"; empty: none
    };
    auto v = std::make_shared<Verdict>();
    std::thread([v, st = store, me = rank, world = world, grace] {
      std::string missing;
      bool ok = false;
      const auto mark = [](int q) { return str_cat("gps/lost/", q); };
      const auto beats = [](int q) { return str_cat("gps/alive/", q); };
      try {
        st->setTimeout(std::chrono::duration_cast<std::chrono::milliseconds>(grace));
        st->set(mark(me), std::vector<uint8_t>{1});
        if (st->check({"gps/verdict"})) {
          const auto w = st->get("gps/verdict");
          missing.assign(w.begin(), w.end());
          if (missing == "-") missing.clear();
        } else {
          std::vector<int64_t> first(size_t(world), 0);
          for (int q = 0; q < world; ++q)
            if (q != me) first[size_t(q)] = st->add(beats(q), 0);
          std::vector<int> unheard;
          for (const auto until = Clock::now() + grace;;) {
            unheard.clear();
            // Two beats more than at the start: one in flight when a rank
            // died does not make it alive.
            for (int q = 0; q < world; ++q)
              if (q != me && !st->check({mark(q)}) && st->add(beats(q), 0) < first[size_t(q)] + 2)
                unheard.push_back(q);
            if (unheard.empty() || Clock::now() >= until) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          for (size_t i = 0; i < unheard.size(); ++i) missing += str_cat(i ? "," : "", unheard[i]);
          // The first verdict stands ("-": none lost); compareSet with an
          // empty expected value writes only a key that is not there yet.
          const std::string word = missing.empty() ? std::string("-") : missing;
          st->compareSet("gps/verdict", {}, std::vector<uint8_t>(word.begin(), word.end()));
        }
        ok = true;
      } catch (const std::exception&) {
      }
      std::lock_guard<std::mutex> lock(v->m);
      v->done = true, v->store_ok = ok, v->missing = missing;
      v->cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(v->m);
    v->cv.wait_for(lock, grace + std::chrono::seconds(3), [&] { return v->done; });
    std::string missing = v->missing, heard_from;
    bool known = v->done && v->store_ok;
    lock.unlock();
    if (!known && heartbeat) {
      std::lock_guard<std::mutex> hb(heartbeat->m);
      if (!heartbeat->verdict.empty()) {
        missing = heartbeat->verdict == "-" ? std::string() : heartbeat->verdict;
        known = true;
        heard_from = " (the verdict read from the store before it went away)";
      }
    }
    std::string who;
    if (!known) {
      who = str_cat("lost rank 0 of ", world, " (it serves the rendezvous store at ", where,
                    "), or this host's link to it,");
    } else if (missing.empty()) {
      who = str_cat("every rank of ", world, " saw the failure (none is lost; a timeout?)");
    } else {
      who = str_cat(missing.find(',') == std::string::npos ? "lost rank " : "lost ranks ", missing, " of ", world);
      for (auto i = who.find(','); i != std::string::npos; i = who.find(',', i + 2)) who.insert(i + 1, " ");
    }
    // Rank 0 serves the store: it stays until the others that are alive have
    // seen the verdict (their heartbeats read it within a period or two).
    if (rank == 0 && known) std::this_thread::sleep_for(4 * Heartbeat::kPeriod);
    GPS_FAIL("distributed: ", who, heard_from, " ", when, ": the ", what, " on rank ", rank, " failed: ",
             first_line(e.what()), "\n---> HINT: the last checkpoint is intact; once every rank can run again, "
             "continue with the same command and --resume <run directory>");
  }

  // NCCL reduces CUDA tensors only: a CPU tensor (a flag, a shape, the
  // neighbour table) goes through a device copy. Gloo takes either.
  template <typename Op>
  void on_device(torch::Tensor& t, Op op) {
    if (!device.is_cuda() || t.device() == device) return op(t);
    auto d = t.to(device);
    op(d);
    wait_pending();  // the copy back would block the host with no limit if a rank were lost
    t.copy_(d);
  }
};

Group::~Group() = default;

std::shared_ptr<Group> Group::connect(const DistEnv& env, const torch::Device& device) {
  const std::chrono::milliseconds timeout(int64_t(env.timeout_s) * 1000);
  GPS_CHECK(env.world >= 1 && env.rank >= 0 && env.rank < env.world, "distributed: rank ", env.rank,
            " out of range for WORLD_SIZE=", env.world);
  std::shared_ptr<Group> g(new Group());
  g->rank_ = env.rank;
  g->world_ = env.world;
  g->impl_ = std::make_unique<Impl>();
  g->impl_->device = device;
  const std::string where = str_cat(env.master_addr, ":", env.port);
  g->impl_->where = where;
  g->impl_->rank = env.rank;
  g->impl_->world = env.world;
  g->impl_->timeout_s = env.timeout_s;
  try {
    c10d::TCPStoreOptions so;
    so.port = uint16_t(env.port);
    so.isServer = env.rank == 0;
    so.numWorkers = size_t(env.world);
    so.waitWorkers = true;
    so.timeout = timeout;
    g->impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    if (device.is_cuda()) {
      g->impl_->pg = make_nccl_backend(g->impl_->store, env.rank, env.world, timeout, device);
      g->impl_->start_heartbeat();
      return g;
    }
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    // Gloo binds to one address. GLOO_SOCKET_IFNAME (torch's name) picks an
    // interface; a loopback master means one machine, so loopback suffices;
    // otherwise the address this machine's hostname resolves to.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname != nullptr && *ifname != '\0')
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    g->impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->impl_->store, env.rank, env.world, opts);
    g->impl_->start_heartbeat();
  } catch (const gps::Error&) {
    throw;
  } catch (const std::exception& e) {
    GPS_FAIL("distributed: rank ", env.rank, " of ", env.world, " could not join the group at ", where,
             " (MASTER_ADDR:MASTER_PORT; rank 0 serves it, the port must be free there): ", e.what());
  }
  return g;
}

bool Group::nccl() const { return impl_->device.is_cuda(); }

void Group::set_step(int64_t step) { impl_->step = step; }

void Group::all_reduce_sum(torch::Tensor& t) {
  GPS_CHECK(t.is_contiguous(), "all_reduce_sum: tensor must be contiguous");
  impl_->on_device(t, [this](torch::Tensor& x) {
    std::vector<torch::Tensor> v{x};
    impl_->wait(impl_->pg->allreduce(v), "all-reduce");
  });
}

torch::Tensor Group::all_gather(const torch::Tensor& t) {
  if (nccl() && t.device() != impl_->device) return all_gather(t.to(impl_->device)).to(t.device());
  auto in = t.contiguous();
  std::vector<torch::Tensor> inputs{in};
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int r = 0; r < world_; ++r) outputs[0].push_back(torch::empty_like(in));
  impl_->wait(impl_->pg->allgather(outputs, inputs), "all-gather");
  return torch::cat(outputs[0], 0);
}

void Group::broadcast(torch::Tensor& t, int root) {
  if (!t.is_contiguous()) {  // a channels-last weight: its bytes in standard order, then back in place
    auto c = t.contiguous();
    broadcast(c, root);
    t.copy_(c);
    return;
  }
  impl_->on_device(t, [this, root](torch::Tensor& x) {
    std::vector<torch::Tensor> v{x};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    impl_->wait(impl_->pg->broadcast(v, o), "broadcast");
  });
}

void Group::barrier() { impl_->wait(impl_->pg->barrier(), "barrier"); }

void Group::wait_pending() {
  if (nccl()) impl_->wait_pending();
}

std::string Group::share_string(const std::string& key, const std::string& value) {
  const std::string k = str_cat("gps/", key, "/", impl_->shared_keys++);
  try {
    if (lead()) {
      impl_->store->set(k, std::vector<uint8_t>(value.begin(), value.end()));
      return value;
    }
    const auto bytes = impl_->store->get(k);  // blocks until rank 0 has set it
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    GPS_FAIL("distributed: sharing '", key, "' through the store failed: ", e.what());
  }
}

void Group::average_gradients(const std::vector<torch::Tensor>& params) {
  if (world_ == 1) return;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return;
  // One all-reduce of all gradients: far fewer round trips than one per tensor.
  std::vector<torch::Tensor> flat;
  flat.reserve(grads.size());
  for (const auto& g : grads) flat.push_back(g.reshape(-1));
  auto buf = torch::cat(flat);
  all_reduce_sum(buf);
  buf.div_(double(world_));
  int64_t off = 0;
  for (auto& g : grads) {
    const int64_t n = g.numel();
    g.copy_(buf.narrow(0, off, n).view_as(g));
    off += n;
  }
}

void Group::broadcast_module(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    auto t = p.detach();
    broadcast(t);
  }
  for (auto& b : module.buffers()) {
    auto t = b.detach();
    broadcast(t);
  }
}


int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  GPS_CHECK(fd >= 0, "cannot open a socket to find a free port (pass MASTER_PORT / --master-port)");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  GPS_CHECK(ok, "cannot find a free port on 127.0.0.1 (pass MASTER_PORT / --master-port)");
  return ntohs(a.sin_port);
}

// ---- the active group -------------------------------------------------------

namespace {
thread_local std::shared_ptr<Group> g_active;
}  // namespace

Group* active_group() { return g_active.get(); }
std::shared_ptr<Group> active_group_shared() { return g_active; }
void set_active_group(std::shared_ptr<Group> g) { g_active = std::move(g); }

// ---- differentiable collectives ----------------------------------------------
//
// Gradient convention: each rank back-propagates its own loss, and
// Group::average_gradients divides the sum over ranks by W. A tensor every
// rank reads (a gathered batch, a summed statistic) therefore gets, on each
// rank, the sum over ranks of its gradient, so that the averaged parameter
// gradient is that of the mean of the ranks' losses, which is the
// one-process loss when every rank computes the loss on the global batch.
// The group is kept in the graph node as an integer: autograd's saved data
// holds IValues, and the group outlives every graph built while it is active.

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

Group* group_of(AutogradContext* ctx) { return reinterpret_cast<Group*>(ctx->saved_data["group"].toInt()); }

struct GatherRowsFn : torch::autograd::Function<GatherRowsFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    auto* g = reinterpret_cast<Group*>(group);
    ctx->saved_data["group"] = group;
    ctx->saved_data["rows"] = x.size(0);
    return g->all_gather(x.detach());
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    Group* g = group_of(ctx);
    const int64_t rows = ctx->saved_data["rows"].toInt();
    auto grad = grads[0].contiguous().clone();
    g->all_reduce_sum(grad);
    return {grad.narrow(0, int64_t(g->rank()) * rows, rows).contiguous(), torch::Tensor()};
  }
};

struct AllReduceSumFn : torch::autograd::Function<AllReduceSumFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    auto* g = reinterpret_cast<Group*>(group);
    ctx->saved_data["group"] = group;
    auto out = x.detach().contiguous().clone();
    g->all_reduce_sum(out);
    return out;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto grad = grads[0].contiguous().clone();
    group_of(ctx)->all_reduce_sum(grad);
    return {grad, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gather_rows(const torch::Tensor& x) {
  Group* g = active_group();
  if (g == nullptr || g->world() == 1) return x;
  return GatherRowsFn::apply(x, reinterpret_cast<int64_t>(g));
}

torch::Tensor all_reduce_sum(const torch::Tensor& x) {
  Group* g = active_group();
  if (g == nullptr || g->world() == 1) return x;
  return AllReduceSumFn::apply(x, reinterpret_cast<int64_t>(g));
}

}  // namespace gps::dist
