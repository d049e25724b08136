// Tensor<T>: a handle to contiguous row-major storage on xtensor, plus what autograd needs.
//
// T is float (training) or double (gradient checks): the same code path runs in both. A Tensor is
// a cheap shared handle, like torch.Tensor: copying it aliases the same storage and gradient.
#pragma once
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "autograd/shape.hpp"
#include "autograd/tape.hpp"

namespace ag {

template <class T>
using Buffer = xt::xtensor<T, 1>;  // flat storage; the shape lives beside it

template <class T>
struct TensorImpl final : ImplBase {
  std::shared_ptr<Buffer<T>> data;  // shared by detach() and reshape()
  std::shared_ptr<Buffer<T>> grad;  // allocated when the first gradient arrives (op_util.hpp: zeroed, or written whole)
  bool has_grad() const override { return grad != nullptr; }
};

template <class T>
class Tensor {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "Tensor<T>: T must be float or double");

 public:
  using value_type = T;

  Tensor() = default;  // an undefined tensor; defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl<T>> impl) : impl_(std::move(impl)) {}

  // ---- factories
  static Tensor empty(const Shape& shape);  // uninitialised storage
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, T value);
  static Tensor scalar(T value) { return full({}, value); }
  static Tensor from_vector(const Shape& shape, std::vector<T> values);  // throws if sizes differ

  // ---- metadata and data
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  std::size_t dim() const { return shape().size(); }
  std::size_t numel() const { return ag::numel(shape()); }
  std::size_t size(long axis) const;  // negative axes count from the end
  T* data() { return impl().data->data(); }
  const T* data() const { return impl().data->data(); }
  std::vector<T> to_vector() const { return {data(), data() + numel()}; }
  T item() const;  // the value of a one-element tensor; throws otherwise

  // ---- autograd
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool has_grad() const { return impl().has_grad(); }
  Tensor grad() const;  // the accumulated gradient (shares storage); throws if none arrived yet
  void zero_grad();     // drops the gradient; the next backward starts from zero
  Tensor detach() const;  // same storage, no history, does not require grad

  // Seeds d(this)=1 (this must have one element) or d(this)=seed, then runs the tape backward.
  void backward() const;
  void backward(const Tensor& seed) const;

  TensorImpl<T>& impl() const;
  const std::shared_ptr<TensorImpl<T>>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl<T>> impl_;
};

using TensorF = Tensor<float>;
using TensorD = Tensor<double>;

// A copy of t's values in storage of its own, as To (float <-> double); off the tape, no gradient.
template <class To, class From>
Tensor<To> copy_as(const Tensor<From>& t) {
  const From* p = t.data();
  return Tensor<To>::from_vector(t.shape(), std::vector<To>(p, p + t.numel()));
}

}  // namespace ag
