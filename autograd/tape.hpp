// The tape: a Wengert list of backward closures in creation order.
//
// Every differentiable op appends one Node while it runs forward. Because an op can only consume
// tensors that already exist, creation order is a topological order: backward is a plain reverse
// loop over the list. No graph search, no recursion, so a chain of 10^5 ops is no harder than 10.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/shape.hpp"

namespace ag {

// What the tape needs to know about a tensor of either dtype: whether a gradient reached it.
struct ImplBase {
  Shape shape;
  bool requires_grad = false;
  virtual bool has_grad() const = 0;
  virtual ~ImplBase() = default;
};

struct Node {
  const char* op;                        // for error messages and debugging
  std::shared_ptr<const ImplBase> out;   // the tensor this op produced
  std::function<void()> backward;        // reads out.grad, adds into the inputs' grads
};

class Tape {
 public:
  // One tape per thread: ops record on the tape of the thread that calls them.
  static Tape& current();

  void record(const char* op, std::shared_ptr<const ImplBase> out, std::function<void()> backward);

  // Runs every node whose output received a gradient, newest first, releasing each node's saved
  // tensors as soon as it has run; the tape is empty afterwards (also when a backward throws).
  void backward();
  void clear() { nodes_.clear(); }
  std::size_t size() const { return nodes_.size(); }

 private:
  std::vector<Node> nodes_;
};

// Grad mode is per thread, like the tape.
bool grad_enabled();

// RAII: while one is alive, ops record nothing and produce tensors that do not require grad.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ag
