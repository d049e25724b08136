// The row softmax of the fused attention (fused_attention.cpp), in whole SIMD batches: GCC
// vectorises neither a max nor expf without -ffast-math, so these loops use xsimd directly. Internal
// to the engine.
#pragma once
#include <algorithm>
#include <cstddef>
#include <limits>

#include <xsimd/xsimd.hpp>

namespace ag::detail {

// The largest of a batch's lanes. xsimd 8 has no reduce_max; max is exact in any order, so a
// branch-free tree over the stored lanes gives the same value as a scan, without its mispredictions.
template <class T>
T max_of_lanes(const xsimd::batch<T>& b) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  alignas(64) T lanes[W];
  b.store_aligned(lanes);
  for (std::size_t w = W / 2; w > 0; w /= 2)
    for (std::size_t l = 0; l < w; ++l) lanes[l] = std::max(lanes[l], lanes[l + w]);
  return lanes[0];
}

// A softmax row's shift (s · its max score) and 1 / Σ exp: P's row r is exp(s · S_r − shift) · inv.
template <class T>
struct RowStats {
  T shift, inv;
};

// The entries of row[j .. j + batch width) that are kept, those before n; the masked ones read −∞.
template <class T>
xsimd::batch<T> kept_entries(const T* row, std::size_t j, std::size_t n) {
  using Batch = xsimd::batch<T>;
  static const Batch lane = [] {
    alignas(64) T index[Batch::size];
    for (std::size_t l = 0; l < Batch::size; ++l) index[l] = T(l);
    return Batch::load_aligned(index);
  }();
  return xsimd::select(lane + T(j) < T(n), Batch::load_unaligned(row + j), Batch(-std::numeric_limits<T>::infinity()));
}

// On entry row[j], j < n, are unscaled scores; on return row[j] = exp(s · row[j] − s · max) / Σ for
// j < n and 0 for n ≤ j < end (the masked keys, which the P·V GEMMs read as zeros). s · max is the
// max of the scaled scores (s > 0), so this is a softmax of s · row. Every pass runs in whole SIMD
// batches up to end, a multiple of the batch width (GCC vectorises neither a max nor expf without
// -ffast-math): lanes j ≥ n are set to −∞ first, which changes no max and gives exp 0.
template <class T>
RowStats<T> softmax_row(T* row, std::size_t n, std::size_t end, T s) {
  using Batch = xsimd::batch<T>;
  constexpr std::size_t W = Batch::size;
  Batch most(-std::numeric_limits<T>::infinity());
  for (std::size_t j = 0; j < end; j += W) {
    const Batch v = kept_entries(row, j, n);
    v.store_unaligned(row + j);
    most = xsimd::max(most, v);
  }
  const T shift = s * max_of_lanes(most);
  const Batch sb(s), sm(shift);
  Batch sum(T(0));  // the masked lanes' exp is 0, so the batches sum the n entries, in a fixed order
  for (std::size_t j = 0; j < end; j += W) {
    const Batch e = xsimd::exp(Batch::load_unaligned(row + j) * sb - sm);
    e.store_unaligned(row + j);
    sum += e;
  }
  const T inv = T(1) / xsimd::hadd(sum);
  for (std::size_t j = 0; j < end; j += W) (Batch::load_unaligned(row + j) * Batch(inv)).store_unaligned(row + j);
  return {shift, inv};
}

// The same row again from forward's stats, in one pass: the same operations on the same numbers as
// softmax_row, so bitwise the same P.
template <class T>
void softmax_row_again(T* row, std::size_t n, std::size_t end, T s, RowStats<T> stats) {
  using Batch = xsimd::batch<T>;
  const Batch sb(s), sm(stats.shift), inv(stats.inv);
  for (std::size_t j = 0; j < end; j += Batch::size)
    (xsimd::exp(kept_entries(row, j, n) * sb - sm) * inv).store_unaligned(row + j);
}

}  // namespace ag::detail
