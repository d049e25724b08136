// A run's configuration: plain data, read from YAML with the official repo's field names where they
// exist, overridable by dotted paths ("model.n_head=4"). Unknown keys and bad values are errors that
// name the field and what is allowed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/model/model.hpp"
#include "experiments/task/losses.hpp"
#include "experiments/task/task.hpp"

namespace lab {

struct TrainConfig {
  std::size_t batch_size = 64;
  double learning_rate = 1e-4;  // Adam, as the paper
  long train_steps = 1000;
  std::uint64_t seed = 0;
  int threads = 0;              // 0: all cores
  long log_every = 10;
  long eval_every = 0;          // 0: off; else the held-out error (mean over k = 2..N-1) goes to the log
  long checkpoint_every = 100;
  long snapshot_every = 0;      // 0: off; else the weights at every such step stay in <run>/snapshots/
                                // (step-000250.safetensors, ...), to study how a run learned
  Loss loss = Loss::PlackettLuce;
  // Each step's batch is cut into this many equal micro-batches whose gradients are computed apart and
  // summed in order: in one process, or spread over the processes of an MPI job (data_parallel.hpp).
  std::size_t micro_batches = 1;
  // On-policy contexts (on_policy.hpp): this many triplets of every training sequence are the model's
  // own earlier answers, scored by the critic of multi-round self-correction. 0: the paper's training.
  std::size_t on_policy = 0;
  double on_policy_explore = 0;  // σ: those triplets are samples around the answers (selfcorrect --explore)
};

struct RunConfig {
  ModelConfig model;
  TaskConfig task;        // task.n_dims and task.n_points follow the model's
  TrainConfig training;

  void validate() const;       // throws std::invalid_argument naming the field
  std::string to_yaml() const;  // parses back to the same config
};

// `overrides` are "section.key=value" strings applied on top of the file.
RunConfig parse_config(const std::string& yaml_text, const std::vector<std::string>& overrides = {});
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The config.yaml of a run directory; "'DIR' is not a run directory" when there is none.
RunConfig load_run_config(const std::string& run_dir);

}  // namespace lab
