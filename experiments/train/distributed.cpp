#include "experiments/train/distributed.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#ifdef AG_HAVE_MPI
#include <mpi.h>
#endif

namespace lab {
namespace {

// How many processes a launcher started, from the variables OpenMPI, MPICH/Slurm PMI set; 1 if none.
int launched_processes() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 1;
}

}  // namespace

Group Group::solo() { return Group{}; }

Group Group::world() {
  Group g;
  if (launched_processes() <= 1) return g;  // no launcher: no need for MPI at all
#ifdef AG_HAVE_MPI
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);  // TBB's threads never call MPI
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &g.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &g.size_);
  g.mpi_ = true;
#else
  throw std::runtime_error("this icalign was built without MPI, but " + std::to_string(launched_processes()) +
                             " copies of it were started (mpirun?): each would train alone. Install libopenmpi-dev "
                             "(scripts/setup.sh does) and rebuild");
#endif
  return g;
}

std::vector<float> Group::all_gather(const std::vector<float>& mine) const {
  if (size_ == 1) return mine;
  std::vector<float> all(mine.size() * static_cast<std::size_t>(size_));
#ifdef AG_HAVE_MPI
  // Allgather moves bytes; it adds nothing, so the caller's sum over ranks is in a fixed order.
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_FLOAT, all.data(), static_cast<int>(mine.size()),
                MPI_FLOAT, MPI_COMM_WORLD);
#endif
  return all;
}

void Group::barrier() const {
#ifdef AG_HAVE_MPI
  if (mpi_) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void abort_job(const std::string& error, int exit_code) {
  std::fprintf(stderr, "%s\n", error.c_str());
  std::fflush(stderr);
#ifdef AG_HAVE_MPI
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
  }
#endif
  std::exit(exit_code);
}

void finalize_group() {
#ifdef AG_HAVE_MPI
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) MPI_Finalize();
#endif
}

}  // namespace lab
