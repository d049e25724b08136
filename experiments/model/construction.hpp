// The explicit construction: a transformer, built from our nn modules with every weight set by hand,
// whose forward pass runs K steps of gradient descent on the Plackett–Luce alignment loss with the
// quadratic reward s_j = -β ‖u - y_j‖² (u = W x, the policy's answer). docs/construction.md derives
// every weight.
//
// One GD step is N - 1 blocks. Block i peels off the i-th PL term, y_τ(i) - ȳ_i:
//   head S (selection)  softmax over γ r_j - C m_j: the top remaining response y_τ(i) and its reward ρ_i
//   head P (policy)     softmax over -β ‖u - y_j‖² - C m_j: ȳ_i, the policy-weighted remaining mean
//   FFN (ReLU)          flags the selected response (m += 1 where r_j ≥ ρ_i) and clears ρ; at the end
//                       of a step it applies u += 2βη Σ_i (y_τ(i) - ȳ_i) and clears the flags
// The step's gradient accumulates in two slots, AT = Σ y_τ(i) and AB = Σ ȳ_i; the read-out is
// u + 2βη (AT - AB) at the query token. Residual stream, no LayerNorm, full (non-causal) attention.
#pragma once
#include <memory>
#include <vector>

#include "nn/block.hpp"

namespace lab {

struct ConstructionConfig {
  std::size_t n_responses = 5;  // N: responses in the context
  std::size_t n_dims = 5;       // d: size of y and of u = W x
  std::size_t steps = 1;        // K: gradient-descent steps
  double beta = 1.0;            // reward sharpness: s_j = -β ‖u - y_j‖²
  double eta = 0.1;             // learning rate of GD on W, for a unit-norm input x (u⁺ = u + 2βη g)
  double min_gap = 0.01;        // δ: the smallest gap between rewards the selection must resolve
  double gamma = 0;             // γ: selection sharpness; 0 means 40/δ, so e^{-γδ} = e^{-40}
  double exclusion = 0;         // C: score penalty of flagged tokens; 0 means 2γ + 1000

  // Ablations, for the component table of `icalign construct`. The defaults are the construction.
  nn::AttentionKind attention = nn::AttentionKind::Softmax;
  bool select_head = true, policy_head = true, ffn = true;
  std::size_t blocks_per_step = 0;  // 0 means N - 1

  void validate() const;  // throws std::invalid_argument naming the field
  double sharpness() const { return gamma > 0 ? gamma : 40.0 / min_gap; }
  double penalty() const { return exclusion > 0 ? exclusion : 2.0 * sharpness() + 1000.0; }
  std::size_t per_step() const { return blocks_per_step ? blocks_per_step : n_responses - 1; }
  double step_size() const { return 2.0 * beta * eta; }  // α: u⁺ = u + α g
};

// The residual-stream coordinates of a token; y, u, at and ab are d wide, the rest one.
struct TokenLayout {
  explicit TokenLayout(std::size_t d);
  std::size_t d;
  std::size_t y, ny, r, m, q, u, at, ab, rho;
  std::size_t width;  // n_embd: 4d + 5, rounded up to even so the two heads have equal size
};

class ConstructedTransformer : public nn::Module<double> {
 public:
  explicit ConstructedTransformer(const ConstructionConfig& cfg);

  // u0 (B, d), ys (B, N, d), rs (B, N) -> tokens (B, N+1, width): token 0 is the query, holding u0;
  // token j+1 holds response j: y_j, ‖y_j‖², r_j.
  ag::TensorD encode(const ag::TensorD& u0, const ag::TensorD& ys, const ag::TensorD& rs) const;
  ag::TensorD forward(ag::TensorD tokens) const;          // through every block: (B, N+1, width)
  ag::TensorD read_out(const ag::TensorD& stream) const;  // (B, d): u + α (AT - AB) at the query token
  ag::TensorD operator()(const ag::TensorD& u0, const ag::TensorD& ys, const ag::TensorD& rs) const {
    return read_out(forward(encode(u0, ys, rs)));
  }

  const ConstructionConfig cfg;
  const TokenLayout layout;
  std::vector<std::unique_ptr<nn::Block<double>>> h;

 private:
  void set_attention(nn::Block<double>& block) const;
  void set_ffn(nn::Block<double>& block, bool ends_step) const;
};

// The bound on ‖construction - GD‖ for one step (K = 1) when every flag is right, per context:
//   α Σ_i Σ_{j remaining at i, j ≠ τ(i)} exp(-γ (r_τ(i) - r_j)) ‖y_j - y_τ(i)‖
// (head S puts weight at most exp(-γ (r_τ(i) - r_j)) on each loser; docs/construction.md §5).
std::vector<double> selection_error_bound(const ConstructionConfig& cfg, const ag::TensorD& ys, const ag::TensorD& rs);

// The smallest gap between two rewards of each context: the construction needs it ≥ δ.
std::vector<double> min_reward_gaps(const ag::TensorD& rs);

// The construction's answers u_K (B, d) for u0 (B, d), ys (B, N, d), rs (B, N).
ag::TensorD answers(const ConstructionConfig& cfg, const ag::TensorD& u0, const ag::TensorD& ys, const ag::TensorD& rs);

}  // namespace lab
