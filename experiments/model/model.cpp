#include "experiments/model/model.hpp"

#include <cmath>
#include <stdexcept>

namespace lab {

void ModelConfig::validate() const {
  auto positive = [](std::size_t v, const char* field) {
    if (v == 0) throw std::invalid_argument(std::string("model.") + field + " must be >= 1 (got 0)");
  };
  positive(n_dims, "n_dims");
  positive(n_points, "n_points");
  positive(n_embd, "n_embd");
  positive(n_layer, "n_layer");
  positive(n_head, "n_head");
  if (n_embd % n_head != 0)
    throw std::invalid_argument("model.n_embd (" + std::to_string(n_embd) + ") must be divisible by model.n_head (" +
                                std::to_string(n_head) + ")");
}

std::map<std::string, std::string> ModelConfig::to_metadata() const {
  std::map<std::string, std::string> meta{{"model.n_dims", std::to_string(n_dims)},
          {"model.n_points", std::to_string(n_points)},
          {"model.n_embd", std::to_string(n_embd)},
          {"model.n_layer", std::to_string(n_layer)},
          {"model.n_head", std::to_string(n_head)},
          {"model.attention", attention == nn::AttentionKind::Softmax ? "softmax" : "linear"},
          {"model.ffn", ffn ? "on" : "off"},
          {"model.causal", causal ? "on" : "off"}};
  // Only when it is not GPT-2's: checkpoints written before the field existed keep loading.
  if (activation != nn::Activation::Gelu) meta["model.activation"] = "softplus";
  return meta;
}

nn::BlockSpec ModelConfig::block_spec() const {
  nn::BlockSpec s;
  s.n_embd = n_embd, s.n_head = n_head, s.attention = attention, s.causal = causal, s.ffn = ffn, s.activation = activation;
  return s;
}

namespace {
// Validates before any member is built, so a bad config never draws random numbers or allocates.
const ModelConfig& validated(const ModelConfig& cfg) {
  cfg.validate();
  return cfg;
}
}  // namespace

template <class T>
ICAlignTransformer<T>::ICAlignTransformer(const ModelConfig& cfg, ag::Rng& rng)
    : read_in(validated(cfg).n_dims, cfg.n_embd, rng),
      wpe(3 * cfg.n_points, cfg.n_embd, rng),
      ln_f(cfg.n_embd),
      read_out(cfg.n_embd, cfg.n_dims, rng),
      cfg_(cfg) {
  for (std::size_t i = 0; i < cfg.n_layer; ++i) h.push_back(std::make_unique<nn::Block<T>>(cfg.block_spec(), rng));
  this->register_module("_read_in", read_in);
  this->register_module("wpe", wpe);
  for (std::size_t i = 0; i < h.size(); ++i) this->register_module("h." + std::to_string(i), *h[i]);
  this->register_module("ln_f", ln_f);
  this->register_module("_read_out", read_out);

  // GPT-2 initialisation of the backbone (HF GPT2PreTrainedModel._init_weights); the read-in and
  // read-out keep PyTorch's default Linear init, as in the official model.
  const double resid_std = 0.02 / std::sqrt(2.0 * static_cast<double>(cfg.n_layer));
  for (auto& [name, p] : this->named_parameters()) {
    if (name.rfind("_read_", 0) == 0) continue;
    auto ends_with = [&n = name](const std::string& s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
    T* d = p.data();
    if (ends_with("bias")) std::fill(d, d + p.numel(), T(0));
    else if (name.find("ln_") != std::string::npos) std::fill(d, d + p.numel(), T(1));
    else {
      const double sd = ends_with("c_proj.weight") || ends_with("mlp_proj.weight") ? resid_std : 0.02;
      for (std::size_t k = 0; k < p.numel(); ++k) d[k] = static_cast<T>(sd * rng.normal());
    }
  }
}

template <class T>
ag::Tensor<T> interleave_tokens(const ag::Tensor<T>& xs, const ag::Tensor<T>& ys, const ag::Tensor<T>& rs) {
  if (xs.dim() != 3 || ys.shape() != xs.shape() || rs.shape() != ag::Shape{xs.shape()[0], xs.shape()[1]})
    throw ag::ShapeError("interleave_tokens: need xs and ys (B, N, d) and rs (B, N), got xs " + ag::shape_str(xs.shape()) +
                         ", ys " + ag::shape_str(ys.shape()) + ", rs " + ag::shape_str(rs.shape()));
  const long B = static_cast<long>(xs.shape()[0]), N = static_cast<long>(xs.shape()[1]), d = static_cast<long>(xs.shape()[2]);
  // reward token [r, 0, ..., 0]; then (B, N, 3, d) -> (B, 3N, d), as the reference's combine()
  const ag::Tensor<T> r_tok = ag::concat<T>({ag::reshape(rs, {B, N, 1}), ag::Tensor<T>::zeros({xs.shape()[0], xs.shape()[1], xs.shape()[2] - 1})}, 2);
  return ag::reshape(ag::stack<T>({xs, ys, r_tok}, 2), {B, 3 * N, d});
}

template <class T>
ag::Tensor<T> ICAlignTransformer<T>::operator()(const ag::Tensor<T>& xs, const ag::Tensor<T>& ys,
                                                const ag::Tensor<T>& rs) const {
  if (xs.dim() != 3 || xs.shape()[1] != cfg_.n_points || xs.shape()[2] != cfg_.n_dims)
    throw ag::ShapeError("ICAlignTransformer: xs must be (B, n_points=" + std::to_string(cfg_.n_points) +
                         ", n_dims=" + std::to_string(cfg_.n_dims) + "), got " + ag::shape_str(xs.shape()));
  const ag::Tensor<T> z = interleave_tokens(xs, ys, rs);  // (B, 3N, d)
  const std::size_t T3 = z.shape()[1];
  ag::Tensor<T> x = read_in(z) + ag::slice(wpe.weight, 0, 0, T3);  // (B, 3N, C)
  for (const auto& block : h) x = (*block)(x);
  const ag::Tensor<T> out = read_out(ln_f(x));  // (B, 3N, d)
  std::vector<std::size_t> x_tokens;
  for (std::size_t n = 0; n < cfg_.n_points; ++n) x_tokens.push_back(3 * n);
  return ag::index_select(out, 1, x_tokens);  // (B, N, d)
}

template class ICAlignTransformer<float>;
template class ICAlignTransformer<double>;
template ag::Tensor<float> interleave_tokens(const ag::Tensor<float>&, const ag::Tensor<float>&, const ag::Tensor<float>&);
template ag::Tensor<double> interleave_tokens(const ag::Tensor<double>&, const ag::Tensor<double>&, const ag::Tensor<double>&);

ag::TensorD model_answers(const ICAlignTransformer<float>& model, const Batch<double>& b) {
  ag::NoGradGuard no_grad;
  const std::size_t B = b.xs.shape()[0], N = b.xs.shape()[1], d = b.xs.shape()[2], chunk = 256;
  ag::TensorD out = ag::TensorD::empty({B, N, d});
  auto to_float = [](const ag::TensorD& t, std::size_t s0, std::size_t s1) {
    const std::size_t row = t.numel() / t.shape()[0];
    ag::Shape s = t.shape();
    s[0] = s1 - s0;
    std::vector<float> v(t.data() + s0 * row, t.data() + s1 * row);
    return ag::TensorF::from_vector(s, std::vector<float>(v.begin(), v.end()));
  };
  for (std::size_t s0 = 0; s0 < B; s0 += chunk) {
    const std::size_t s1 = std::min(B, s0 + chunk);
    const ag::TensorF p = model(to_float(b.xs, s0, s1), to_float(b.ys, s0, s1), to_float(b.rs, s0, s1));
    std::copy(p.data(), p.data() + p.numel(), out.data() + s0 * N * d);
  }
  return out;
}

}  // namespace lab
