// Several training processes on PyTorch's c10d (Gloo on the CPU, NCCL on CUDA GPUs): who this
// process is (torchrun-style environment variables), the group it talks to,
// and the few collectives data-parallel training needs.
//
// Data parallelism here keeps one invariant: with W processes and a global
// batch of B, every process computes on its B/W rows, and the loss, the
// gradients and the batch-norm statistics equal those of one process on all
// B rows (up to float summation order). The pieces that make it so:
//   - gather_rows: embeddings of all ranks, with gradient (contrastive
//     negatives, Barlow Twins / VICReg batch statistics);
//   - all_reduce_sum: the differentiable sum behind synchronised batch norm;
//   - Group::average_gradients after backward.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace gps {

namespace dist {

// This process's place in the job, from the environment (torchrun's names):
//   WORLD_SIZE        number of processes (unset or 1: one process, no group)
//   RANK              0 .. WORLD_SIZE-1; rank 0 writes the run directory
//   LOCAL_RANK        rank on this machine (default RANK)
//   LOCAL_WORLD_SIZE  processes on this machine (default WORLD_SIZE); train.threads is divided among them
//   MASTER_ADDR       address of rank 0's rendezvous store (default 127.0.0.1)
//   MASTER_PORT       its TCP port (default 29500)
//   GPS_DIST_TIMEOUT_S  how long a rank waits for the others at the rendezvous
//                     and at every collective (default 1800, torch's; rank 0
//                     alone builds the neighbour table while the others wait)
struct DistEnv {
  int rank = 0, world = 1;
  int local_rank = 0, local_world = 1;
  std::string master_addr = "127.0.0.1";
  int port = 29500;
  int timeout_s = 1800;
  std::string cuda_visible_devices;  // CUDA_VISIBLE_DEVICES as set ("" = unset)

  bool enabled() const { return world > 1; }
  // The device this rank trains on for train.device = `spec`: "auto" and
  // "cuda" give local rank r the GPU cuda:cuda_index(visible GPUs); "cpu"
  // stays the CPU. Throws gps::Error naming train.device / LOCAL_RANK when
  // this machine has fewer GPUs than local ranks, or when several local
  // ranks would share one named GPU (NCCL refuses that).
  torch::Device device_for(const std::string& spec) const;
  // The CUDA device index of this rank when the process sees `visible`
  // devices: local_rank when the process sees every GPU of the machine
  // (torchrun's convention); 0 when it sees one GPU and CUDA_VISIBLE_DEVICES
  // is set (a scheduler gave each rank its own). Throws gps::Error naming
  // LOCAL_RANK and CUDA_VISIBLE_DEVICES otherwise.
  int64_t cuda_index(int64_t visible) const;
  // train.threads for this process: `threads` (<= 0: every core of the
  // machine) shared by the LOCAL_WORLD_SIZE processes here, at least 1, so
  // that ranks on one machine do not oversubscribe its cores.
  int threads_per_process(int threads) const;
  // Reads the variables above; throws gps::Error naming the variable on a
  // malformed or inconsistent value (RANK >= WORLD_SIZE, port out of range, ...).
  static DistEnv from_env();
};

// A connected group of processes: the TCPStore rendezvous plus a process
// group, Gloo when the model trains on the CPU and NCCL when it trains on a
// CUDA device. All ranks must call the same collectives in the same order.
// With Gloo a collective returns when it is done; with NCCL it is queued on
// the device (the host does not wait, except to copy a CPU tensor back).
class Group {
 public:
  // Connects to the rendezvous at env.master_addr:env.port (rank 0 serves
  // it) and waits for all env.world ranks, at most env.timeout_s (also the
  // limit of every later collective). Throws gps::Error naming the address.
  // `device`: where the training tensors live (cpu: Gloo; cuda:N, this
  // rank's GPU: NCCL).
  static std::shared_ptr<Group> connect(const DistEnv& env, const torch::Device& device);
  ~Group();

  int rank() const { return rank_; }
  int world() const { return world_; }
  bool lead() const { return rank_ == 0; }
  // True when the group runs on NCCL (CUDA tensors; CPU tensors are staged
  // through the device, which makes the host wait).
  bool nccl() const;

  // The training step the next collectives belong to (-1: start-up). A
  // collective that fails because a rank died, lost its link or exceeded
  // GPS_DIST_TIMEOUT_S throws gps::Error naming the lost rank(s) and this step.
  void set_step(int64_t step);

  // In place: t = sum over ranks of t. Contiguous; CPU or the group's device.
  void all_reduce_sum(torch::Tensor& t);
  // [world * rows, ...]: every rank's t stacked in rank order. t must have
  // the same shape on every rank.
  torch::Tensor all_gather(const torch::Tensor& t);
  // In place: t = rank `root`'s t. Shapes must agree.
  void broadcast(torch::Tensor& t, int root = 0);
  void barrier();
  // NCCL: waits on the host until every collective queued so far is done
  // (the trainer's settle, before it reads any result). A rank lost meanwhile
  // (its heartbeat stopped) or GPS_DIST_TIMEOUT_S passed throws gps::Error
  // naming the lost rank(s) and the step, as a failed Gloo collective does.
  // Gloo: nothing to do (its collectives return when done).
  void wait_pending();
  // Rank 0's `value` (other ranks' arguments are ignored), through the store.
  std::string share_string(const std::string& key, const std::string& value);

  // After backward: every gradient becomes the mean over ranks (one fused
  // all-reduce). Parameters without a gradient are skipped; the set with
  // gradients must be the same on every rank, as it is for identical graphs.
  void average_gradients(const std::vector<torch::Tensor>& params);
  // Parameters and buffers of `module` become rank 0's (start and resume).
  void broadcast_module(torch::nn::Module& module);

  struct Impl;

 private:
  Group() = default;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1;
};

// A TCP port free on the loopback interface right now (the kernel picks
// it), for a rendezvous on this machine. Another program could take it
// before rank 0 binds it; the run then fails at once naming the port.
// Throws gps::Error when no socket can be opened.
int free_local_port();

// The group the current thread trains in, or nullptr for one process. Set by
// whoever connects (the CLI); the methods' losses and batch norm consult it,
// which spares threading a group through every module constructor.
Group* active_group();
void set_active_group(std::shared_ptr<Group> g);
std::shared_ptr<Group> active_group_shared();

// Rows of x from every rank in rank order, [world * N, ...], differentiable:
// the gradient of a row reaches the rank that owns it, summed over the ranks
// whose losses used it. x itself with no active group.
torch::Tensor gather_rows(const torch::Tensor& x);

// Sum of x over ranks, differentiable (the gradient is summed over ranks as
// well). x itself with no active group.
torch::Tensor all_reduce_sum(const torch::Tensor& x);

}  // namespace dist
}  // namespace gps
