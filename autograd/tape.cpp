#include "autograd/tape.hpp"

namespace ag {

namespace {
thread_local bool t_grad_enabled = true;
}

Tape& Tape::current() {
  thread_local Tape tape;
  return tape;
}

void Tape::record(const char* op, std::shared_ptr<const ImplBase> out, std::function<void()> backward) {
  out->tape = this, out->tape_generation = generation_;
  nodes_.push_back(Node{op, std::move(out), std::move(backward)});
}

void Tape::clear() {
  nodes_.clear();
  ++generation_;
}

void Tape::backward() {
  // Move the nodes out first: a backward closure that throws must still leave an empty tape.
  std::vector<Node> nodes;
  nodes.swap(nodes_);
  ++generation_;
  for (std::size_t i = nodes.size(); i-- > 0;) {
    if (nodes[i].out->has_grad()) nodes[i].backward();
    nodes[i] = Node{};  // release what this node saved as soon as it is no longer needed
  }
}

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

}  // namespace ag
