// The memory estimate that refuses a config too large for the machine: the parameter count is exact,
// the estimate is a lower bound of what training really holds, and a refusal names the estimate.
#include <sys/resource.h>

#include <sstream>

#include "experiments/model/model.hpp"
#include "experiments/train/memory.hpp"
#include "experiments/train/trainer.hpp"
#include "testing.hpp"

using Catch::Contains;

TEST_CASE("memory: the parameter count equals the built model's", "[lab][memory]") {
  for (const char* set : {"model.ffn=on", "model.ffn=off", "model.attention=linear", "model.n_head=1"}) {
    const lab::RunConfig c = lab::parse_config("", {"model.n_dims=4", "model.n_points=7", "model.n_embd=24", "model.n_layer=3", set});
    ag::Rng rng(1);
    const lab::ICAlignTransformer<float> model(c.model, rng);
    std::size_t n = 0;
    for (const auto& [name, p] : model.named_parameters()) n += p.numel();
    INFO(set);
    CHECK(lab::parameter_count(c.model) == n);
  }
}

TEST_CASE("memory: the estimate is below what a training step really holds", "[lab][memory]") {
  // Activations dominate here (256 sequences of 60 tokens), so a gross overestimate would show.
  const lab::RunConfig c = lab::parse_config("", {"model.n_embd=32", "model.n_head=2", "model.n_layer=4", "training.batch_size=256",
                                                  "training.train_steps=2", "training.threads=1"});
  const ag::ReferencePath fast(false);  // what the estimate describes: the reference path keeps more
  const agtest::TempDir dir("memory_estimate_run");
  std::ostringstream quiet;
  lab::train(c, dir.path, false, quiet);
  rusage use{};
  getrusage(RUSAGE_SELF, &use);
  const double peak = 1024.0 * static_cast<double>(use.ru_maxrss);
  const lab::MemoryEstimate e = lab::estimate_training_memory(c);
  INFO("estimate " << lab::bytes_text(e.total()) << ", peak resident " << lab::bytes_text(peak));
  CHECK(e.activation_bytes > e.weight_bytes);
  CHECK(e.total() < peak);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer's shadow memory and quarantine inflate the peak several-fold
  CHECK(e.total() > 0.25 * peak);  // a lower bound that still means something
#endif
}

TEST_CASE("memory: a config that cannot fit is refused naming the estimate", "[lab][memory]") {
  const lab::RunConfig c = lab::parse_config("", {"training.batch_size=256"});
  CHECK_NOTHROW(lab::refuse_if_too_large(c, 64.0 * (1ull << 30)));
  CHECK_THROWS_WITH(lab::refuse_if_too_large(c, 1e6), Contains("training needs at least") && Contains("more than this machine's 976.6 KiB") &&
                                                         Contains("parameters"));
  CHECK(lab::bytes_text(1536.0 * 1024 * 1024) == "1.5 GiB");
}
