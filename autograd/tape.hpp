// The tape: a Wengert list of backward closures in creation order.
//
// Every differentiable op appends one Node while it runs forward. Because an op can only consume
// tensors that already exist, creation order is a topological order: backward is a plain reverse
// loop over the list. No graph search, no recursion, so a chain of 10^5 ops is no harder than 10.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/shape.hpp"

namespace ag {

class Tape;

// What the tape needs to know about a tensor of either dtype: whether a gradient reached it, and,
// for an op's output, which tape (and which of its generations) holds the node that made it.
struct ImplBase {
  Shape shape;
  bool requires_grad = false;
  mutable const Tape* tape = nullptr;           // null for a leaf
  mutable std::uint64_t tape_generation = 0;
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
  void clear();
  std::size_t size() const { return nodes_.size(); }

  // Whether the node that produced `t` is still on this tape: false once a backward() or clear()
  // has emptied the tape it was recorded on, so a second backward through the same graph (which
  // would find no nodes and silently leave every gradient unchanged) can be refused. True for leaves.
  bool holds_graph_of(const ImplBase& t) const { return t.tape == nullptr || (t.tape == this && t.tape_generation == generation_); }

 private:
  std::vector<Node> nodes_;
  std::uint64_t generation_ = 0;  // counts the times the tape was emptied
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
