#include "experiments/model/construction.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace lab {

void ConstructionConfig::validate() const {
  auto fail = [](const std::string& field, const std::string& rule) {
    throw std::invalid_argument("construction." + field + " " + rule);
  };
  if (n_responses < 2) fail("n_responses", "must be >= 2 (got " + std::to_string(n_responses) + ")");
  if (n_dims < 1) fail("n_dims", "must be >= 1");
  if (steps < 1) fail("steps", "must be >= 1");
  if (!(beta > 0)) fail("beta", "must be > 0");
  if (!(eta >= 0)) fail("eta", "must be >= 0");
  if (!(min_gap > 0)) fail("min_gap", "must be > 0");
  if (!(gamma >= 0) || !(exclusion >= 0)) fail(gamma >= 0 ? "exclusion" : "gamma", "must be >= 0 (0: automatic)");
  if (blocks_per_step > n_responses - 1)
    fail("blocks_per_step", "must be <= N - 1 = " + std::to_string(n_responses - 1) + " (0: N - 1)");
}

TokenLayout::TokenLayout(std::size_t d_) : d(d_) {
  y = 0, ny = d, r = d + 1, m = d + 2, q = d + 3, u = d + 4, at = 2 * d + 4, ab = 3 * d + 4, rho = 4 * d + 4;
  width = (4 * d + 5 + 1) / 2 * 2;
}

namespace {

const ConstructionConfig& validated(const ConstructionConfig& cfg) {
  cfg.validate();
  return cfg;
}

// Sets one entry of a Linear's weight (out, in), or of its bias (out) with in = 0.
struct Writer {
  ag::TensorD& w;
  void operator()(std::size_t out, std::size_t in, double v) {
    w.data()[w.dim() == 1 ? out : out * w.shape()[1] + in] = v;
  }
};

}  // namespace

ConstructedTransformer::ConstructedTransformer(const ConstructionConfig& c) : cfg(validated(c)), layout(c.n_dims) {
  nn::BlockSpec spec;
  spec.n_embd = layout.width, spec.n_head = 2, spec.attention = cfg.attention, spec.causal = false, spec.ffn = cfg.ffn;
  spec.layer_norm = false, spec.ffn_hidden = 4 * layout.d + 4, spec.activation = nn::Activation::Relu;
  ag::Rng unused(0);  // every weight is overwritten below
  for (std::size_t step = 0; step < cfg.steps; ++step)
    for (std::size_t i = 0; i < cfg.per_step(); ++i) {
      h.push_back(std::make_unique<nn::Block<double>>(spec, unused));
      for (auto& [name, p] : h.back()->named_parameters()) std::fill(p.data(), p.data() + p.numel(), 0.0);
      set_attention(*h.back());
      if (cfg.ffn) set_ffn(*h.back(), /*ends_step=*/i + 1 == cfg.per_step() && step + 1 < cfg.steps);
    }
  for (std::size_t i = 0; i < h.size(); ++i) register_module("h." + std::to_string(i), *h[i]);
}

// c_attn maps a token to (q | k | v), each (head S | head P) of hs coordinates. The attention divides
// scores by sqrt(hs), so the query rows carry sqrt(hs) to cancel it.
void ConstructedTransformer::set_attention(nn::Block<double>& block) const {
  const TokenLayout& L = layout;
  const std::size_t C = L.width, hs = C / 2, d = L.d;
  const double s = std::sqrt(static_cast<double>(hs)), gamma = cfg.sharpness(), pen = cfg.penalty();
  Writer W{block.attn.c_attn.weight}, b{block.attn.c_attn.bias}, P{block.attn.c_proj.weight};
  const std::size_t qS = 0, kS = C, vS = 2 * C, qP = hs, kP = C + hs, vP = 2 * C + hs;

  // Head S: score γ r_j - C m_j - C q_j; value (y_j, r_j) -> (AT, RHO).
  b(qS + 0, 0, s * gamma), W(kS + 0, L.r, 1);
  b(qS + 1, 0, -s * pen), W(kS + 1, L.m, 1);
  b(qS + 2, 0, -s * pen), W(kS + 2, L.q, 1);
  for (std::size_t a = 0; a < d; ++a) W(vS + a, L.y + a, 1);
  W(vS + d, L.r, 1);
  if (cfg.select_head) {
    for (std::size_t a = 0; a < d; ++a) P(L.at + a, a, 1);
    P(L.rho, d, 1);
  }

  // Head P: score 2β <u, y_j> - β ‖y_j‖² - C m_j - C q_j = -β ‖u - y_j‖² + const(u) - C (m_j + q_j);
  // value y_j -> AB.
  for (std::size_t a = 0; a < d; ++a) W(qP + a, L.u + a, s * 2 * cfg.beta), W(kP + a, L.y + a, 1);
  b(qP + d, 0, -s * cfg.beta), W(kP + d, L.ny, 1);
  b(qP + d + 1, 0, -s * pen), W(kP + d + 1, L.m, 1);
  b(qP + d + 2, 0, -s * pen), W(kP + d + 2, L.q, 1);
  for (std::size_t a = 0; a < d; ++a) W(vP + a, L.y + a, 1);
  if (cfg.policy_head)
    for (std::size_t a = 0; a < d; ++a) P(L.ab + a, hs + a, 1);
}

// Hidden units come in pairs; relu(z) - relu(-z) = z passes a value through exactly, and
// relu(a + 2) - relu(a + 1) is the step 0 (a <= -2) .. 1 (a >= -1).
void ConstructedTransformer::set_ffn(nn::Block<double>& block, bool ends_step) const {
  const TokenLayout& L = layout;
  Writer in{block.mlp->c_fc.weight}, bias{block.mlp->c_fc.bias}, out{block.mlp->mlp_proj.weight};
  auto pass_through = [&](std::size_t unit, std::size_t coord) {  // units unit, unit+1 carry +z, -z
    in(unit, coord, 1), in(unit + 1, coord, -1);
  };
  // units 0, 1: clear RHO, so the next block's head S writes the next ρ into an empty slot
  pass_through(0, L.rho);
  out(L.rho, 0, -1), out(L.rho, 1, 1);
  if (!ends_step) {
    // units 2, 3: flag the selected response, m += step((r - ρ)/κ), κ = δ/3: 1 for the winner (and for
    // responses already flagged, whose rewards are higher), 0 for every remaining loser
    const double kappa = cfg.min_gap / 3;
    in(2, L.r, 1 / kappa), in(2, L.rho, -1 / kappa), bias(2, 0, 2);
    in(3, L.r, 1 / kappa), in(3, L.rho, -1 / kappa), bias(3, 0, 1);
    out(L.m, 2, 1), out(L.m, 3, -1);
    return;
  }
  // The end of a step that another follows: u += α (AT - AB); clear AT, AB and the flags m.
  pass_through(2, L.m);
  out(L.m, 2, -1), out(L.m, 3, 1);
  const double alpha = cfg.step_size();
  for (std::size_t a = 0; a < L.d; ++a) {
    const std::size_t t = 4 + 2 * a, v = 4 + 2 * L.d + 2 * a;
    pass_through(t, L.at + a), pass_through(v, L.ab + a);
    out(L.at + a, t, -1), out(L.at + a, t + 1, 1), out(L.u + a, t, alpha), out(L.u + a, t + 1, -alpha);
    out(L.ab + a, v, -1), out(L.ab + a, v + 1, 1), out(L.u + a, v, -alpha), out(L.u + a, v + 1, alpha);
  }
}

ag::TensorD ConstructedTransformer::encode(const ag::TensorD& u0, const ag::TensorD& ys, const ag::TensorD& rs) const {
  const std::size_t N = cfg.n_responses, d = cfg.n_dims;
  if (u0.dim() != 2 || u0.shape()[1] != d || ys.shape() != ag::Shape{u0.shape()[0], N, d} ||
      rs.shape() != ag::Shape{u0.shape()[0], N})
    throw ag::ShapeError("ConstructedTransformer::encode: need u0 (B, d=" + std::to_string(d) + "), ys (B, N=" +
                         std::to_string(N) + ", d), rs (B, N), got " + ag::shape_str(u0.shape()) + ", " +
                         ag::shape_str(ys.shape()) + ", " + ag::shape_str(rs.shape()));
  const std::size_t B = u0.shape()[0], C = layout.width;
  ag::TensorD tok = ag::TensorD::zeros({B, N + 1, C});
  for (std::size_t b = 0; b < B; ++b) {
    double* query = tok.data() + b * (N + 1) * C;
    query[layout.q] = 1;
    for (std::size_t a = 0; a < d; ++a) query[layout.u + a] = u0.data()[b * d + a];
    for (std::size_t j = 0; j < N; ++j) {
      double* t = query + (j + 1) * C;
      const double* y = ys.data() + (b * N + j) * d;
      for (std::size_t a = 0; a < d; ++a) t[layout.y + a] = y[a], t[layout.ny] += y[a] * y[a];
      t[layout.r] = rs.data()[b * N + j];
    }
  }
  return tok;
}

ag::TensorD ConstructedTransformer::forward(ag::TensorD x) const {
  for (const auto& block : h) x = (*block)(x);
  return x;
}

ag::TensorD ConstructedTransformer::read_out(const ag::TensorD& stream) const {
  const long B = static_cast<long>(stream.shape()[0]), C = static_cast<long>(layout.width);
  const ag::TensorD query = ag::reshape(ag::slice(stream, 1, 0, 1), {B, C});
  auto slot = [&](std::size_t at) { return ag::slice(query, 1, at, at + layout.d); };
  return slot(layout.u) + (slot(layout.at) - slot(layout.ab)) * cfg.step_size();
}

std::vector<double> selection_error_bound(const ConstructionConfig& cfg, const ag::TensorD& ys, const ag::TensorD& rs) {
  const std::size_t B = rs.shape()[0], N = rs.shape()[1], d = ys.shape()[2];
  std::vector<double> bound(B, 0.0);
  for (std::size_t b = 0; b < B; ++b) {
    const double* r = rs.data() + b * N;
    std::vector<std::size_t> tau(N);
    std::iota(tau.begin(), tau.end(), 0);
    std::stable_sort(tau.begin(), tau.end(), [&](std::size_t i, std::size_t j) { return r[i] > r[j]; });
    for (std::size_t i = 0; i + 1 < N; ++i)
      for (std::size_t k = i + 1; k < N; ++k) {
        const double* yw = ys.data() + (b * N + tau[i]) * d;
        const double* yl = ys.data() + (b * N + tau[k]) * d;
        double dist = 0;
        for (std::size_t a = 0; a < d; ++a) dist += (yl[a] - yw[a]) * (yl[a] - yw[a]);
        bound[b] += std::exp(-cfg.sharpness() * (r[tau[i]] - r[tau[k]])) * std::sqrt(dist);
      }
    bound[b] *= cfg.step_size();
  }
  return bound;
}

std::vector<double> min_reward_gaps(const ag::TensorD& rs) {
  const std::size_t B = rs.shape()[0], N = rs.shape()[1];
  std::vector<double> gaps(B);
  for (std::size_t b = 0; b < B; ++b) {
    std::vector<double> r(rs.data() + b * N, rs.data() + (b + 1) * N);
    std::sort(r.begin(), r.end());
    double g = HUGE_VAL;
    for (std::size_t j = 1; j < N; ++j) g = std::min(g, r[j] - r[j - 1]);
    gaps[b] = g;
  }
  return gaps;
}

ag::TensorD answers(const ConstructionConfig& cfg, const ag::TensorD& u0, const ag::TensorD& ys, const ag::TensorD& rs) {
  const ConstructedTransformer tf(cfg);
  ag::NoGradGuard no_grad;  // a forward pass only; the weights are set, not learned
  return tf(u0, ys, rs);
}

}  // namespace lab
