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
//
// A fast path (fused_*.cpp; the reference ops are in ops_*.cpp). ln_linear must equal
// linear(layer_norm(x, γ, β), W, b) and gelu_linear must equal residual + linear(gelu(a), W, b),
// values and gradients. Checked by tests/test_gradcheck_fused.cpp ("fused sublayers equal the ops
// they fuse", and gradchecks with reused inputs) and, inside a whole block, by
// tests/test_nn_modules.cpp ("fused pre-LN Block equals the Block run module by module").
#include "autograd/kernels.hpp"
#include "autograd/ops.hpp"

namespace ag {
using namespace detail;

template <class T>
Tensor<T> ln_linear(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& w,
                    const Tensor<T>& b, T eps) {
  const Shape out_shape = check_linear("ln_linear", x.shape(), w.shape(), &b.shape(), nullptr);
  check_layer_norm("ln_linear", x.shape(), gamma.shape(), beta.shape());
  const std::size_t C = w.shape()[1], OUT = w.shape()[0], R = x.numel() / std::max<std::size_t>(C, 1);
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
  const Shape out_shape = check_linear("gelu_linear", a.shape(), w.shape(), &b.shape(), &residual.shape());
  const std::size_t IN = w.shape()[1], OUT = w.shape()[0], R = a.numel() / std::max<std::size_t>(IN, 1);
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
        xt::noalias(tv) = Gelu::tanh_u(av);
        xt::noalias(hv) = T(0.5) * av * (T(1) + tv);
      }, t.data(), h.data(), A);
      const GradTarget<T> da = grad_target(*ai, ai->shape, "gelu_linear");
      linear_backward(g, h.data(), wi->data->data(), R, IN, OUT, GradTarget<T>{da ? h.data() : nullptr, T(0)},  // dh over h
                      grad_target(*wi, wi->shape, "gelu_linear"), grad_sink(*bi, bi->shape, "gelu_linear"));
      // da (+)= dh · gelu'(a). Assign when da is fresh: its memory is uninitialised, and 0 · NaN is NaN.
      if (da && da.beta == T(0))
        for_each_chunk(R * IN, [](auto d, auto dh, auto tv, auto av) { xt::noalias(d) = Gelu::grad(dh, av, tv); },
                       da.ptr, h.data(), t.data(), A);
      else if (da)
        for_each_chunk(R * IN, [](auto d, auto dh, auto tv, auto av) { xt::noalias(d) += Gelu::grad(dh, av, tv); },
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
