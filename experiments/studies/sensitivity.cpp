#include "experiments/studies/sensitivity.hpp"

#include <cmath>

#include "experiments/studies/evaluate.hpp"

namespace lab {

ag::TensorD probe_directions(std::size_t B, std::size_t d, ag::Rng& rng) {
  ag::TensorD u = ag::TensorD::empty({B, d});
  for (std::size_t s = 0; s < B; ++s) {
    double norm = 0;
    for (std::size_t i = 0; i < d; ++i) norm += std::pow(u.data()[s * d + i] = rng.normal(), 2);
    for (std::size_t i = 0; i < d; ++i) u.data()[s * d + i] /= std::sqrt(norm);
  }
  return u;
}

template <class T>
ag::TensorD model_sensitivity(const ICAlignTransformer<T>& model, const Batch<double>& b, std::size_t k, const ag::TensorD& u) {
  const long B = static_cast<long>(b.xs.shape()[0]), d = static_cast<long>(b.xs.shape()[2]);
  ag::Tensor<T> ys = ag::copy_as<T>(b.ys);
  ys.requires_grad_();
  const ag::Tensor<T> pred = model(ag::copy_as<T>(b.xs), ys, ag::copy_as<T>(b.rs));  // (B, N, d)
  const ag::Tensor<T> answer = ag::reshape(ag::slice(pred, 1, static_cast<long>(k), static_cast<long>(k) + 1), {B, d});
  // The sequences are independent, so the gradient of the sum holds each sequence's own gradient.
  ag::sum(ag::cosine_similarity(answer, ag::copy_as<T>(u), -1)).backward();
  return ag::copy_as<double>(ag::slice(ys.grad(), 1, 0, static_cast<long>(k)));
}

template ag::TensorD model_sensitivity(const ICAlignTransformer<float>&, const Batch<double>&, std::size_t, const ag::TensorD&);
template ag::TensorD model_sensitivity(const ICAlignTransformer<double>&, const Batch<double>&, std::size_t, const ag::TensorD&);

ag::TensorD finite_difference_sensitivity(const Answerer& answer, const Batch<double>& b, std::size_t k, const ag::TensorD& u,
                                          double h) {
  const std::size_t B = b.xs.shape()[0], N = b.xs.shape()[1], d = b.xs.shape()[2];
  ag::TensorD out = ag::TensorD::empty({B, k, d});
  Batch<double> moved = b;
  moved.ys = ag::copy_as<double>(b.ys);  // storage of its own: b stays as it is
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      auto shift_to = [&](double shift) {
        for (std::size_t s = 0; s < B; ++s) moved.ys.data()[(s * N + i) * d + j] = b.ys.data()[(s * N + i) * d + j] + shift;
      };
      auto score = [&](double shift) {
        shift_to(shift);
        return cosines(answer(moved, k), u);
      };
      const std::vector<double> up = score(h), down = score(-h);
      shift_to(0);  // back to b's value before the next coordinate; no answer needed
      for (std::size_t s = 0; s < B; ++s) out.data()[(s * k + i) * d + j] = (up[s] - down[s]) / (2 * h);
    }
  return out;
}

std::vector<double> sensitivity_cosines(const ag::TensorD& a, const ag::TensorD& c) {
  const std::size_t B = a.shape()[0], n = a.numel() / B;
  std::vector<double> out(B);
  for (std::size_t s = 0; s < B; ++s) {
    double dot = 0, na = 0, nc = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = a.data()[s * n + i], y = c.data()[s * n + i];
      dot += x * y, na += x * x, nc += y * y;
    }
    out[s] = dot / std::sqrt(std::max(na * nc, 1e-300));
  }
  return out;
}

std::vector<AgreementRow> sensitivity_study(const ICAlignTransformer<float>& model,
                                            const std::vector<Answerer>& others,
                                            const Answerer& gd, const Batch<double>& b, const std::vector<std::size_t>& ks,
                                            std::uint64_t seed) {
  ag::Rng rng(seed);
  const ag::TensorD u = probe_directions(b.xs.shape()[0], b.xs.shape()[2], rng);
  std::vector<AgreementRow> rows;
  auto add = [&](const std::string& method, std::size_t k, const std::vector<double>& v) {
    Curve c;
    summarise(v, c);
    rows.push_back({"sensitivity_cos_with_gd", method, "", k, c.mean[0], c.sem[0], v.size()});
  };
  for (std::size_t k : ks) {
    const ag::TensorD reference = finite_difference_sensitivity(gd, b, k, u);
    add("model", k, sensitivity_cosines(model_sensitivity(model, b, k, u), reference));
    for (const Answerer& other : others) add(other.name, k, sensitivity_cosines(finite_difference_sensitivity(other, b, k, u), reference));
  }
  return rows;
}

}  // namespace lab
