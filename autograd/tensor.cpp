#include "autograd/tensor.hpp"

#include <limits>
#include <string>

namespace ag {

template <class T>
Tensor<T> Tensor<T>::empty(const Shape& shape) {
  auto impl = std::make_shared<TensorImpl<T>>();
  impl->shape = shape;
  impl->data = std::make_shared<Buffer<T>>(Buffer<T>::from_shape({ag::numel(shape)}));
#ifdef AG_POISON_UNINITIALISED  // the sanitizer build: an op that reads what it never wrote yields NaN
  impl->data->fill(std::numeric_limits<T>::quiet_NaN());
#endif
  return Tensor(std::move(impl));
}

template <class T>
Tensor<T> Tensor<T>::full(const Shape& shape, T value) {
  Tensor t = empty(shape);
  t.impl().data->fill(value);
  return t;
}

template <class T>
Tensor<T> Tensor<T>::zeros(const Shape& shape) { return full(shape, T(0)); }

template <class T>
Tensor<T> Tensor<T>::ones(const Shape& shape) { return full(shape, T(1)); }

template <class T>
Tensor<T> Tensor<T>::from_vector(const Shape& shape, std::vector<T> values) {
  if (values.size() != ag::numel(shape))
    throw ShapeError("from_vector: " + std::to_string(values.size()) + " values do not fill shape " + shape_str(shape));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

template <class T>
TensorImpl<T>& Tensor<T>::impl() const {
  if (!impl_) throw std::logic_error("Tensor: use of an undefined tensor");
  return *impl_;
}

template <class T>
std::size_t Tensor<T>::size(long axis) const {
  return shape()[normalize_axis(axis, dim(), "size")];
}

template <class T>
T Tensor<T>::item() const {
  if (numel() != 1) throw ShapeError("item: tensor of shape " + shape_str(shape()) + " has " +
                                     std::to_string(numel()) + " elements, not 1");
  return data()[0];
}

template <class T>
Tensor<T>& Tensor<T>::requires_grad_(bool on) {
  impl().requires_grad = on;
  return *this;
}

template <class T>
Tensor<T> Tensor<T>::grad() const {
  if (!has_grad()) throw std::logic_error("grad: no gradient has reached this tensor of shape " + shape_str(shape()));
  auto g = std::make_shared<TensorImpl<T>>();
  g->shape = shape();
  g->data = impl().grad;
  return Tensor(std::move(g));
}

template <class T>
void Tensor<T>::zero_grad() { impl().grad.reset(); }

template <class T>
Tensor<T> Tensor<T>::detach() const {
  auto d = std::make_shared<TensorImpl<T>>();
  d->shape = shape();
  d->data = impl().data;
  return Tensor(std::move(d));
}

template <class T>
void Tensor<T>::backward() const {
  if (numel() != 1)
    throw ShapeError("backward: called on a tensor of shape " + shape_str(shape()) +
                     "; reduce it to one element or pass a seed gradient of the same shape");
  backward(Tensor::ones(shape()));
}

template <class T>
void Tensor<T>::backward(const Tensor& seed) const {
  if (seed.shape() != shape())
    throw ShapeError("backward: seed gradient of shape " + shape_str(seed.shape()) + " for a tensor of shape " +
                     shape_str(shape()));
  if (!requires_grad())
    throw std::logic_error("backward: the tensor does not require grad (no input of its graph requires grad, "
                           "or it was computed under NoGradGuard)");
  if (!Tape::current().holds_graph_of(impl()))
    throw std::logic_error("backward: this tensor's graph is no longer on the tape: a backward() (of this tensor or of "
                           "another built on the same tape) or Tape::clear() has consumed it, or it was built on "
                           "another thread. Build the graph again to differentiate it again");
  auto& t = impl();
  if (!t.grad) t.grad = std::make_shared<Buffer<T>>(xt::zeros<T>({numel()}));
  *t.grad += *seed.impl().data;
  Tape::current().backward();
}

template class Tensor<float>;
template class Tensor<double>;

}  // namespace ag
