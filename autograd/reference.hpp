// The reference path: one switch that runs a program on plain code a student can read. While it is
// on, every GEMM is three loops (no tiles, no BLAS, no JIT kernels: blas.cpp), layer_norm runs the
// plain loops beside its fast kernel (ops_nn.cpp), and nn's blocks and attention run module by
// module from primitive ops instead of the fused sublayers (fused_*.cpp). It is slow, and it shares
// no kernel with the fast path, so the tests that compare a fast path with its reference compute
// the reference under it.
// AG_REFERENCE=1 in the environment turns it on at start-up (0 or unset: off); the programs print it
// where they print the GEMM backend.
#pragma once

namespace ag {

// The first call reads AG_REFERENCE; throws std::invalid_argument on a value other than 0 or 1.
bool reference_path();

// Process-wide, for tests; switch it only between ops.
void set_reference_path(bool on);

// On for as long as it lives, then back to what it was.
class ReferencePath {
 public:
  explicit ReferencePath(bool on = true) : previous_(reference_path()) { set_reference_path(on); }
  ~ReferencePath() { set_reference_path(previous_); }
  ReferencePath(const ReferencePath&) = delete;
  ReferencePath& operator=(const ReferencePath&) = delete;

 private:
  bool previous_;
};

}  // namespace ag
