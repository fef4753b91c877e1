// ThreadPool: data-parallel loops over a fixed number of threads.
//
// Built on OpenMP on purpose: the convolution and matmul library we use (oneDNN, as Debian
// builds it) runs its own work on the OpenMP runtime. A second, separate pool of spinning
// threads would fight it for the same cores; sharing one runtime keeps a 2-core board at
// exactly 2 busy threads.
//
// Thread safety: a pool may be used from one thread at a time. Separate pools (one per
// executor) may run concurrently from different threads.
#pragma once

#include <cstdint>
#include <functional>

namespace embody {

// Cores this process may run on (sched_getaffinity), at least 1.
int AvailableCores();

class ThreadPool {
 public:
  // threads <= 0 means AvailableCores().
  explicit ThreadPool(int threads = 0);

  int threads() const { return threads_; }

  // Calls fn(begin, end) on disjoint ranges covering [0, n), split into at most threads()
  // contiguous chunks. Returns after all calls finish. fn must not throw.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) const;

  // Makes libraries that read the OpenMP default (oneDNN) use threads() threads on the
  // calling thread.
  void BindToCallingThread() const;

 private:
  int threads_;
};

}  // namespace embody
