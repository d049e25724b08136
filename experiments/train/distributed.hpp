// The processes that train one run together: MPI's world when icalign is built with MPI and started
// by mpirun (or srun), a group of one otherwise. Data parallelism needs only two collective
// operations here, an all-gather and a barrier; everything else (the data, the initial weights) each
// rank derives from the run's seed, so nothing else is ever sent.
#pragma once
#include <string>
#include <vector>

namespace lab {

class Group {
 public:
  static Group solo();   // this process alone (sweeps train each run in one process)
  static Group world();  // every process mpirun started; initialises MPI on first use

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool leader() const { return rank_ == 0; }  // rank 0 alone writes files and prints progress

  // Every rank's `mine` (all of the same length), concatenated in rank order, on every rank.
  std::vector<float> all_gather(const std::vector<float>& mine) const;
  void barrier() const;

 private:
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

// Ends every process of the job with the error: under MPI, a rank that fails alone would otherwise
// leave the others waiting in a collective forever.
[[noreturn]] void abort_job(const std::string& error, int exit_code);

// Shuts MPI down if it was started; call once, at the end of main.
void finalize_group();

}  // namespace lab
