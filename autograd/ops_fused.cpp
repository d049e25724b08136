// Fused sublayers of a pre-LN transformer block, llm.c style: each is one op with its own backward,
// and what is cheap to recompute is recomputed in backward instead of kept alive until then.
//
//   ln_linear(x, γ, β, W, b)         y = LN(x) Wᵀ + b             keeps x, mean, rstd   (not LN(x))
//   gelu_linear(a, W, b, residual)   y = residual + gelu(a) Wᵀ + b keeps a              (not gelu(a))
//
// Together with linear(h, W, b, residual) and attention_qkv they make a block keep 6 tensors per
// layer instead of 11 (docs/performance.md). Backward, with n = LN(x), h = gelu(a):
//   ln_linear:   dW += dyᵀ n,  db += Σ dy,  dn = dy W,  then LayerNorm's backward from dn
//   gelu_linear: dW += dyᵀ h,  db += Σ dy,  da += (dy W) ⊙ gelu'(a),  dresidual += dy
#include "autograd/kernels.hpp"
#include "autograd/ops.hpp"

namespace ag {
using namespace detail;

namespace {
void check_linear(const Shape& x, const Shape& w, const Shape& b, const char* op) {
  if (x.empty() || w.size() != 2 || x.back() != w[1] || b != Shape{w[0]})
    throw ShapeError(std::string(op) + ": x " + shape_str(x) + " needs weight (OUT, " + (x.empty() ? "?" : std::to_string(x.back())) +
                     ") and bias (OUT), got weight " + shape_str(w) + " and bias " + shape_str(b));
}
}  // namespace

template <class T>
Tensor<T> ln_linear(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w,
                    const Tensor<T>& b, T eps) {
  check_linear(x.shape(), w.shape(), b.shape(), "ln_linear");
  if (gamma.shape() != Shape{x.shape().back()} || beta.shape() != gamma.shape())
    throw ShapeError("ln_linear: x " + shape_str(x.shape()) + " needs gamma and beta of shape (C), got " +
                     shape_str(gamma.shape()) + " and " + shape_str(beta.shape()));
  const std::size_t C = w.shape()[1], OUT = w.shape()[0], R = x.numel() / std::max<std::size_t>(C, 1);
  Shape out_shape = x.shape();
  out_shape.back() = OUT;
  Tensor<T> y = Tensor<T>::empty(out_shape);
  auto mean = std::make_shared<std::vector<T>>(R), rstd = std::make_shared<std::vector<T>>(R);
  {
    Buffer<T> n = Buffer<T>::from_shape({R * C});  // LN(x), dropped after the GEMM
    layer_norm_rows(x.data(), gamma.data(), beta.data(), eps, R, C, n.data(), mean->data(), rstd->data());
    linear_forward(n.data(), w.data(), b.data(), R, C, OUT, T(0), y.data());
  }
  if (needs_grad<T>({&x, &gamma, &beta, &w, &b})) {
    record("ln_linear", y, [xi = x.impl_ptr(), gi = gamma.impl_ptr(), bti = beta.impl_ptr(), wi = w.impl_ptr(),
                            bi = b.impl_ptr(), yi = y.impl_ptr().get(), mean, rstd, R, C, OUT] {
      const T *g = grad_of(*yi), *X = xi->data->data(), *G = gi->data->data();
      Buffer<T> n = Buffer<T>::from_shape({R * C});
      layer_norm_apply(X, G, bti->data->data(), mean->data(), rstd->data(), R, C, n.data());
      const GradTarget<T> dx = grad_target(*xi, xi->shape, "ln_linear");
      T* dgamma = grad_sink(*gi, gi->shape, "ln_linear");
      T* dbeta = grad_sink(*bti, bti->shape, "ln_linear");
      const bool need_dn = dx || dgamma || dbeta;  // then dn overwrites n, which dW has used by then
      linear_backward(g, n.data(), wi->data->data(), R, C, OUT, GradTarget<T>{need_dn ? n.data() : nullptr, T(0)},
                      grad_target(*wi, wi->shape, "ln_linear"), grad_sink(*bi, bi->shape, "ln_linear"));
      if (need_dn) layer_norm_backward(n.data(), X, G, mean->data(), rstd->data(), R, C, dx, dgamma, dbeta);
    });
  }
  return y;
}

template <class T>
Tensor<T> gelu_linear(const Tensor<T>& a, const Tensor<T>& w, const Tensor<T>& b, const Tensor<T>& residual) {
  check_linear(a.shape(), w.shape(), b.shape(), "gelu_linear");
  const std::size_t IN = w.shape()[1], OUT = w.shape()[0], R = a.numel() / std::max<std::size_t>(IN, 1);
  Shape out_shape = a.shape();
  out_shape.back() = OUT;
  if (residual.shape() != out_shape)
    throw ShapeError("gelu_linear: the residual must have the output's shape " + shape_str(out_shape) + ", got " +
                     shape_str(residual.shape()));
  Tensor<T> y = Tensor<T>::empty(out_shape);
  for_each_chunk(y.numel(), [](auto yv, auto rv) { xt::noalias(yv) = rv; }, y.data(), residual.data());
  {
    Buffer<T> h = Buffer<T>::from_shape({R * IN});  // gelu(a), dropped after the GEMM
    for_each_chunk(R * IN, [](auto hv, auto av) { xt::noalias(hv) = Gelu{}(av); }, h.data(), a.data());
    linear_forward(h.data(), w.data(), b.data(), R, IN, OUT, T(1), y.data());
  }
  if (needs_grad<T>({&a, &w, &b, &residual})) {
    record("gelu_linear", y, [ai = a.impl_ptr(), wi = w.impl_ptr(), bi = b.impl_ptr(), ri = residual.impl_ptr(),
                              yi = y.impl_ptr().get(), R, IN, OUT] {
      const T *g = grad_of(*yi), *A = ai->data->data();
      // t = tanh u once; then h = a/2 (1 + t) for dW, and gelu'(a) from the same t for da.
      Buffer<T> t = Buffer<T>::from_shape({R * IN}), h = Buffer<T>::from_shape({R * IN});
      for_each_chunk(R * IN, [](auto tv, auto hv, auto av) {
        xt::noalias(tv) = xt::tanh(T(Gelu::kK) * (av + T(Gelu::kC) * av * av * av));
        xt::noalias(hv) = T(0.5) * av * (T(1) + tv);
      }, t.data(), h.data(), A);
      const GradTarget<T> da = grad_target(*ai, ai->shape, "gelu_linear");
      linear_backward(g, h.data(), wi->data->data(), R, IN, OUT, GradTarget<T>{da ? h.data() : nullptr, T(0)},  // dh over h
                      grad_target(*wi, wi->shape, "gelu_linear"), grad_sink(*bi, bi->shape, "gelu_linear"));
      // da (+)= dh · gelu'(a). Assign when da is fresh: its memory is uninitialised, and 0 · NaN is NaN.
      auto gelu_grad = [](const auto& dh, const auto& tv, const auto& av) {
        return dh * (T(0.5) * (T(1) + tv) + T(0.5) * av * (T(1) - tv * tv) * T(Gelu::kK) * (T(1) + T(3 * Gelu::kC) * av * av));
      };
      if (da && da.beta == T(0))
        for_each_chunk(R * IN, [&](auto d, auto dh, auto tv, auto av) { xt::noalias(d) = gelu_grad(dh, tv, av); },
                       da.ptr, h.data(), t.data(), A);
      else if (da)
        for_each_chunk(R * IN, [&](auto d, auto dh, auto tv, auto av) { xt::noalias(d) += gelu_grad(dh, tv, av); },
                       da.ptr, h.data(), t.data(), A);
      if (const auto dr = grad_target(*ri, yi->shape, "gelu_linear")) pass_gradient(dr, g, numel(yi->shape));
    });
  }
  return y;
}

template Tensor<float> ln_linear(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, const Tensor<float>&,
                                 const Tensor<float>&, float);
template Tensor<double> ln_linear(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, const Tensor<double>&,
                                  const Tensor<double>&, double);
template Tensor<float> gelu_linear(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&, const Tensor<float>&);
template Tensor<double> gelu_linear(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&, const Tensor<double>&);

}  // namespace ag
