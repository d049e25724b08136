// A seeded random number generator we own, so a seed gives the same numbers on every machine:
// std::mt19937_64 is fully specified by the standard, std::normal_distribution is not (so the
// normal draws use our own Box-Muller transform).
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "autograd/tensor.hpp"

namespace ag {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}

  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }

  // Standard normal, Box-Muller; the second value of each pair is kept for the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform(); while (u1 <= 0.0);
    const double u2 = uniform(), r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

  // The complete state as text (the engine's standard serialisation plus the cached normal), so a
  // checkpointed run draws exactly the numbers it would have drawn.
  std::string state() const {
    std::ostringstream os;
    os.precision(17);
    os << gen_ << ' ' << has_spare_ << ' ' << std::hexfloat << spare_;
    return os.str();
  }
  void set_state(const std::string& s) {
    std::istringstream is(s);
    std::mt19937_64 gen;
    bool has_spare = false;
    std::string spare;
    if (!(is >> gen >> has_spare >> spare)) throw std::invalid_argument("Rng::set_state: malformed state");
    gen_ = gen;
    has_spare_ = has_spare;
    spare_ = std::strtod(spare.c_str(), nullptr);
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

template <class T>
Tensor<T> randn(const Shape& shape, Rng& rng, double stddev = 1.0) {
  Tensor<T> t = Tensor<T>::empty(shape);
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(stddev * rng.normal());
  return t;
}

template <class T>
Tensor<T> rand_uniform(const Shape& shape, Rng& rng, double lo = 0.0, double hi = 1.0) {
  Tensor<T> t = Tensor<T>::empty(shape);
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(lo + (hi - lo) * rng.uniform());
  return t;
}

}  // namespace ag
