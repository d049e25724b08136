// The one owner of parallelism: TBB. OpenBLAS is kept single-threaded and called from TBB tasks.
// parallel.cpp also sets the process's memory policy (glibc keeps freed tensors for reuse).
//
// Determinism: work is cut into chunks whose boundaries depend only on the problem size, never on
// the thread count, and each output element is written by exactly one chunk. So results are
// bitwise identical for 1 and N threads.
#pragma once
#include <algorithm>
#include <cstddef>

#include <tbb/parallel_for.h>

namespace ag {

// Caps the worker threads of every kernel (TBB global_control) and pins OpenBLAS to one thread.
// n = 0 restores the default (all cores). Call from the main thread, between ops.
void set_num_threads(int n);
int num_threads();

// Calls f(begin, end) on consecutive chunks of [0, n) of `chunk` elements (the last may be
// shorter), in parallel. Small problems run inline with no task overhead.
template <class F>
void parallel_chunks(std::size_t n, std::size_t chunk, F&& f) {
  chunk = std::max<std::size_t>(chunk, 1);
  if (n <= chunk) {
    if (n) f(std::size_t(0), n);
    return;
  }
  const std::size_t n_chunks = (n + chunk - 1) / chunk;
  tbb::parallel_for(std::size_t(0), n_chunks, [&](std::size_t c) {
    f(c * chunk, std::min(n, (c + 1) * chunk));
  });
}

// n split into the fewest blocks of at most `most`, of near-equal size: the block length (every block
// has it but the last, which may be shorter). Depends on n alone, as the determinism above requires.
inline std::size_t even_block(std::size_t n, std::size_t most) {
  const std::size_t blocks = std::max<std::size_t>(1, (n + most - 1) / most);
  return (n + blocks - 1) / blocks;
}

// Like even_block, but the number of blocks is a multiple of 4 once there is more than one, so that
// 2 or 4 threads get equal shares of blocks of equal cost (15 blocks on 2 threads leave one idle
// for a sixteenth of the loop). Also depends on n alone.
inline std::size_t balanced_block(std::size_t n, std::size_t most) {
  std::size_t blocks = std::max<std::size_t>(1, (n + most - 1) / most);
  if (blocks > 1) blocks = (blocks + 3) / 4 * 4;
  return (n + blocks - 1) / blocks;
}

// Chunk sizes, in elements, for elementwise kernels and in rows for row-wise ones: big enough
// that a task's overhead is noise, small enough to keep both cores busy.
inline constexpr std::size_t kElementChunk = 1 << 15;
inline std::size_t rows_per_chunk(std::size_t row_len) { return std::max<std::size_t>(1, kElementChunk / std::max<std::size_t>(row_len, 1)); }

}  // namespace ag
