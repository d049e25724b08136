// Shapes, broadcasting and the one `unbroadcast` helper every elementwise backward uses.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag {

using Shape = std::vector<std::size_t>;

// Every user-facing error (bad shapes, bad arguments) is a ShapeError or std::invalid_argument
// whose message starts with the op's name and states the shapes involved.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::string shape_str(const Shape& s);          // "(2, 3, 4)"
std::size_t numel(const Shape& s);              // product of dims; 1 for a scalar ()
Shape row_major_strides(const Shape& s);        // in elements

// Resolve a possibly negative axis against a rank; throws naming `op` when out of range.
std::size_t normalize_axis(long axis, std::size_t rank, const char* op);

// NumPy broadcasting of two shapes (align right; a dim of 1 stretches). Throws naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// View a tensor of `shape` as (outer, n, inner) around `axis`: the layout every axis-wise
// kernel (reductions, softmax, slicing, concat) loops over.
struct AxisSplit {
  std::size_t outer, n, inner;
};
AxisSplit split_at(const Shape& shape, std::size_t axis);

// For each element of a tensor of shape `out`, the offset of the element of a tensor of shape
// `in` (broadcastable to `out`) that it reads. Used by broadcast forward and unbroadcast backward.
std::vector<std::size_t> broadcast_offsets(const Shape& in, const Shape& out);

// offsets[k] = Σ_d idx_d · stride[d], idx the row-major multi-index of element k of `shape`: where
// element k is found in storage laid out with those strides (0 along a stretched dim). One walk
// behind broadcasting, permute and gather.
std::vector<std::size_t> strided_offsets(const Shape& shape, const Shape& stride);

// dst (shape `in`) += g (shape `out`) summed over the axes along which `in` was broadcast to `out`.
// This is the adjoint of broadcasting: every broadcast forward's backward goes through it.
template <class T>
void unbroadcast_add(const T* g, const Shape& out, T* dst, const Shape& in);

}  // namespace ag
