#include "core/thread_pool.h"

#include <omp.h>
#include <sched.h>

#include <algorithm>

namespace embody {

int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, omp_get_num_procs());
}

ThreadPool::ThreadPool(int threads) : threads_(threads > 0 ? threads : AvailableCores()) {}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) const {
  if (n <= 0) return;
  const int64_t chunks = std::min<int64_t>(threads_, n);
  if (chunks == 1) {
    fn(0, n);
    return;
  }
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = n * c / chunks;
    const int64_t end = n * (c + 1) / chunks;
    fn(begin, end);
  }
}

void ThreadPool::BindToCallingThread() const { omp_set_num_threads(threads_); }

}  // namespace embody
