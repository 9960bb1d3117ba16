#include "gps/core/threads.h"

#include <torch/torch.h>

#include <thread>

namespace gps {

int set_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  torch::set_num_threads(n);
  return n;
}

}  // namespace gps
