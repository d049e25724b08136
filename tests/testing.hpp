// Shared helpers for the tests: seeded inputs and a gradcheck assertion that prints the worst
// element when it fails.
#pragma once
#include <catch2/catch.hpp>

#include "autograd/autograd.hpp"
#include "autograd/op_util.hpp"

namespace agtest {

using ag::TensorD;
using ag::TensorF;

// Normal(0, 1) inputs, seeded per call site so every test is reproducible.
inline TensorD randd(const ag::Shape& s, std::uint64_t seed, double scale = 1.0) {
  ag::Rng rng(seed);
  return ag::randn<double>(s, rng, scale);
}

// Uniform inputs in [lo, hi): for ops defined only on part of the line (log, sqrt, pow).
inline TensorD uniformd(const ag::Shape& s, std::uint64_t seed, double lo, double hi) {
  ag::Rng rng(seed);
  return ag::rand_uniform<double>(s, rng, lo, hi);
}

inline TensorF randf(const ag::Shape& s, std::uint64_t seed, double scale = 1.0) {
  ag::Rng rng(seed);
  return ag::randn<float>(s, rng, scale);
}

}  // namespace agtest

#define CHECK_GRADS(f, ...)                                   \
  do {                                                        \
    const auto gc_result_ = ag::gradcheck((f), {__VA_ARGS__}); \
    INFO(gc_result_.message);                                 \
    CHECK(gc_result_.ok);                                     \
  } while (0)
