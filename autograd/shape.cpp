#include "autograd/shape.hpp"

#include <sstream>

namespace ag {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '(';
  for (std::size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ')';
  return os.str();
}

std::size_t numel(const Shape& s) {
  std::size_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

Shape row_major_strides(const Shape& s) {
  Shape st(s.size(), 1);
  for (std::size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

std::size_t normalize_axis(long axis, std::size_t rank, const char* op) {
  const long r = static_cast<long>(rank);
  if (axis < -r || axis >= r)
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                     std::to_string(rank));
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::size_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::size_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                       " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

AxisSplit split_at(const Shape& shape, std::size_t axis) {
  AxisSplit s{1, shape[axis], 1};
  for (std::size_t i = 0; i < axis; ++i) s.outer *= shape[i];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

std::vector<std::size_t> strided_offsets(const Shape& shape, const Shape& stride) {
  const std::size_t r = shape.size();
  std::vector<std::size_t> offsets(numel(shape));
  Shape idx(r, 0);
  std::size_t off = 0;
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    offsets[k] = off;
    // Odometer increment of the multi-index, keeping `off` in step. No recursion, O(1) amortised.
    for (std::size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) { off += stride[d]; break; }
      off -= stride[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
  return offsets;
}

std::vector<std::size_t> broadcast_offsets(const Shape& in, const Shape& out) {
  const std::size_t r = out.size(), pad = r - in.size();
  // Strides of `in` laid over the dims of `out`; 0 along broadcast (stretched or missing) dims.
  Shape in_strides = row_major_strides(in), stride(r, 0);
  for (std::size_t i = pad; i < r; ++i)
    if (in[i - pad] != 1) stride[i] = in_strides[i - pad];
  return strided_offsets(out, stride);
}

template <class T>
void unbroadcast_add(const T* g, const Shape& out, T* dst, const Shape& in) {
  if (in == out) {
    for (std::size_t i = 0, n = numel(out); i < n; ++i) dst[i] += g[i];
    return;
  }
  const auto offsets = broadcast_offsets(in, out);
  for (std::size_t k = 0; k < offsets.size(); ++k) dst[offsets[k]] += g[k];
}

template void unbroadcast_add<float>(const float*, const Shape&, float*, const Shape&);
template void unbroadcast_add<double>(const double*, const Shape&, double*, const Shape&);

}  // namespace ag
