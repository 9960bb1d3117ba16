// CPU thread policy. Debian's LibTorch starts with one intra-op thread; gps
// sets it explicitly at start-up.
#pragma once

namespace gps {

// Sets LibTorch's intra-op threads to n, or to the machine's cores when n <= 0.
// Returns the number set.
int set_threads(int n);

}  // namespace gps
