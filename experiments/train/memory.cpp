#include "experiments/train/memory.hpp"

#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace lab {

std::size_t parameter_count(const ModelConfig& m) {
  const std::size_t d = m.n_dims, C = m.n_embd, T = 3 * m.n_points;
  const nn::BlockSpec spec = m.block_spec();
  std::size_t block = (3 * C * C + 3 * C) + (C * C + C);  // c_attn (q, k, v) and c_proj, with biases
  if (spec.layer_norm) block += 2 * C;                      // ln_1
  if (spec.ffn) {
    const std::size_t H = spec.hidden();
    block += (C * H + H) + (H * C + C);                     // c_fc, mlp_proj
    if (spec.layer_norm) block += 2 * C;                    // ln_2
  }
  return (d * C + C) + T * C + m.n_layer * block + 2 * C + (C * d + d);  // read-in, wpe, blocks, ln_f, read-out
}

// Per token and layer, backward needs at least: the block's input and the attention's output (2C),
// q, k and v (3C), the attention weights of a softmax head (one per visible token and head: on
// average (T + 1) / 2 under the causal mask), and with the FFN its input and hidden layer (C + 4C).
// Everything else (per-row statistics, temporaries, gradients of the activations) comes on top, so
// this is a lower bound.
MemoryEstimate estimate_training_memory(const RunConfig& cfg) {
  const ModelConfig& m = cfg.model;
  const nn::BlockSpec spec = m.block_spec();
  const double B = static_cast<double>(cfg.training.batch_size) / static_cast<double>(cfg.training.micro_batches);
  const double T = 3.0 * static_cast<double>(m.n_points), C = static_cast<double>(m.n_embd);
  double per_token = 5 * C;
  if (m.attention == nn::AttentionKind::Softmax) per_token += static_cast<double>(m.n_head) * (m.causal ? (T + 1) / 2 : T);
  if (m.ffn) per_token += C + static_cast<double>(spec.hidden());
  MemoryEstimate e;
  e.parameters = parameter_count(m);
  e.weight_bytes = 4.0 * 4.0 * static_cast<double>(e.parameters);
  e.activation_bytes = 4.0 * B * T * static_cast<double>(m.n_layer) * per_token;
  return e;
}

double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) bytes /= 1024, ++u;
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

void refuse_if_too_large(const RunConfig& cfg, double available) {
  const MemoryEstimate e = estimate_training_memory(cfg);
  if (available <= 0 || e.total() <= available) return;
  throw std::invalid_argument(
      "config: training needs at least " + bytes_text(e.total()) + " (" + std::to_string(e.parameters) + " parameters: " +
      bytes_text(e.weight_bytes) + " with their gradients and Adam's moments; activations of a micro-batch of " +
      std::to_string(cfg.training.batch_size / cfg.training.micro_batches) + " sequences: " + bytes_text(e.activation_bytes) +
      "), more than this machine's " + bytes_text(available) +
      "; lower training.batch_size (or raise training.micro_batches), model.n_layer, model.n_embd or model.n_points");
}

}  // namespace lab
