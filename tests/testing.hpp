// Shared helpers for the tests: seeded inputs, a gradcheck assertion that prints the worst element
// when it fails, a small generic network, and a scratch directory.
#pragma once
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/op_util.hpp"
#include "nn/block.hpp"

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

// Whether work cut into chunks by ag::parallel_chunks really ran on two threads once the thread count
// is 2: a 1-vs-2-threads test compares nothing on a host that runs everything on one thread.
inline bool two_threads_run() {
  ag::set_num_threads(2);
  std::mutex m;
  std::set<std::thread::id> ids;
  ag::parallel_chunks(64, 1, [&](std::size_t, std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // long enough for the second worker to join
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  ag::set_num_threads(0);
  return ids.size() >= 2;
}

// Requires two threads, or says the test is skipped and why (on a one-CPU host).
#define REQUIRE_TWO_THREADS_OR_SKIP()                                                          \
  do {                                                                                          \
    if (std::thread::hardware_concurrency() < 2) {                                             \
      WARN("skipped: this host has one CPU, so 1 and 2 threads cannot be compared");           \
      return;                                                                                   \
    }                                                                                           \
    REQUIRE(agtest::two_threads_run());                                                         \
  } while (0)

// A directory of its own per test case, removed before and after: ctest runs test cases as
// parallel processes.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct TempDir {
  std::string path;
  explicit TempDir(std::string p) : path(std::move(p)) { std::filesystem::remove_all(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// A small generic network for the nn tests: n_layer pre-LN blocks of width C (2 heads), named
// h.0 ... h.{n_layer-1} as in GPT-2, so checkpoints of different depths have different names.
template <class T>
class TinyNet : public nn::Module<T> {
 public:
  TinyNet(std::size_t n_layer, std::size_t C, ag::Rng& rng, bool causal = true) {
    nn::BlockSpec spec;
    spec.n_embd = C, spec.n_head = 2, spec.causal = causal;
    for (std::size_t i = 0; i < n_layer; ++i) {
      h.push_back(std::make_unique<nn::Block<T>>(spec, rng));
      this->register_module("h." + std::to_string(i), *h.back());
    }
  }
  ag::Tensor<T> operator()(ag::Tensor<T> x) const {  // (B, T, C) -> (B, T, C)
    for (const auto& b : h) x = (*b)(x);
    return x;
  }
  std::vector<std::unique_ptr<nn::Block<T>>> h;
};

}  // namespace agtest

// Checks d f(x) / d(x and every parameter of m): the parameters are gradcheck inputs too, so
// their storage is what the finite differences perturb.
template <class F, class M>
void check_module_grads(F f, const ag::TensorD& x, const M& m) {
  std::vector<ag::TensorD> inputs{x};
  for (auto& p : m.parameters()) inputs.push_back(p);
  const auto r = ag::gradcheck([&](const std::vector<ag::TensorD>& v) { return f(v[0]); }, inputs);
  INFO(r.message);
  CHECK(r.ok);
}

#define CHECK_GRADS(f, ...)                                   \
  do {                                                        \
    const auto gc_result_ = ag::gradcheck((f), {__VA_ARGS__}); \
    INFO(gc_result_.message);                                 \
    CHECK(gc_result_.ok);                                     \
  } while (0)
