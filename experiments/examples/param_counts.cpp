// Prints the parameter count of each of the paper's model configurations, as built by nn/.
#include <cstdio>

#include "experiments/model/model.hpp"

int main() {
  struct Row {
    const char* name;
    std::size_t n_layer, n_embd, n_head;
    bool ffn;
  };
  const Row rows[] = {{"default (20L, 96, 3H)", 20, 96, 3, true}, {"depth 5", 5, 96, 3, true},
                      {"depth 10", 10, 96, 3, true},              {"depth 15", 15, 96, 3, true},
                      {"1 head (32 dims)", 20, 32, 1, true},      {"4 heads (128 dims)", 20, 128, 4, true},
                      {"6 heads (192 dims)", 20, 192, 6, true},   {"no FFN", 20, 96, 3, false}};
  std::printf("%-24s %12s\n", "configuration", "parameters");
  for (const Row& r : rows) {
    lab::ModelConfig c;
    c.n_layer = r.n_layer, c.n_embd = r.n_embd, c.n_head = r.n_head, c.ffn = r.ffn;
    ag::Rng rng(0);
    const lab::ICAlignTransformer<float> model(c, rng);
    std::printf("%-24s %12zu\n", r.name, model.num_parameters());
  }
  return 0;
}
