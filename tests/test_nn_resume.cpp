// Resuming: 20 steps + save + load + 20 steps equals 40 straight steps, bit for bit; mismatched
// checkpoints are refused.
#include <cstdio>
#include <filesystem>

#include "nn/train_state.hpp"
#include "testing.hpp"

using namespace agtest;
using Catch::Contains;

namespace {

// What the model is, as a trainer would describe it in the checkpoint's metadata.
const nn::Metadata kMeta{{"model.n_layer", "2"}, {"model.causal", "on"}};

// n steps of Adam on fresh random data drawn from `rng` each step (so the RNG state matters too).
void train(const TinyNet<float>& model, nn::Optimizer<float>& opt, ag::Rng& rng, int n) {
  for (int i = 0; i < n; ++i) {
    const TensorF x = ag::randn<float>({4, 5, 8}, rng), target = ag::randn<float>({4, 5, 8}, rng);
    const TensorF d = model(x) - target;
    opt.zero_grad();
    ag::mean(d * d).backward();
    opt.step();
  }
}

std::vector<std::vector<float>> values(const nn::NamedParams<float>& ps) {
  std::vector<std::vector<float>> v;
  for (auto& p : ps) v.push_back(p.second.to_vector());
  return v;
}

}  // namespace

TEST_CASE("20 steps + save + load + 20 steps equals 40 straight steps, bitwise", "[nn][resume]") {
  TempDir dir("resume_roundtrip_dir");
  ag::Rng init_a(1), data_a(2);
  const TinyNet<float> straight(2, 8, init_a);
  nn::Adam<float> opt_a(straight.named_parameters(), 1e-3);
  train(straight, opt_a, data_a, 40);

  ag::Rng init_b(1), data_b(2);
  {
    const TinyNet<float> first(2, 8, init_b);
    nn::Adam<float> opt(first.named_parameters(), 1e-3);
    train(first, opt, data_b, 20);
    nn::save_training_state(dir.path, first, opt, data_b, kMeta);
  }
  // A different initialisation and RNG: everything must come from the checkpoint.
  ag::Rng init_c(99), data_c(98);
  const TinyNet<float> resumed(2, 8, init_c);
  nn::Adam<float> opt_c(resumed.named_parameters(), 1e-3);
  CHECK(nn::load_training_state(dir.path, resumed, opt_c, data_c, kMeta) == 20);
  train(resumed, opt_c, data_c, 20);

  CHECK(values(resumed.named_parameters()) == values(straight.named_parameters()));
  CHECK(values(opt_c.state()) == values(opt_a.state()));
  CHECK(opt_c.steps() == 40);
  CHECK(data_c.normal() == data_a.normal());
}

TEST_CASE("a training state that does not match the run is refused, leaving the run untouched", "[nn][resume][errors]") {
  TempDir dir("resume_mismatch_dir");
  ag::Rng init(1), data(2);
  const TinyNet<float> model(2, 8, init);
  nn::Adam<float> opt(model.named_parameters(), 1e-3);
  train(model, opt, data, 2);
  nn::save_training_state(dir.path, model, opt, data, kMeta);

  SECTION("another model config") {
    ag::Rng r(3);
    const TinyNet<float> other(2, 8, r, /*causal=*/false);  // same shapes, other model
    nn::Adam<float> o(other.named_parameters(), 1e-3);
    const auto before = values(other.named_parameters());
    const nn::Metadata other_meta{{"model.n_layer", "2"}, {"model.causal", "off"}};
    CHECK_THROWS_WITH(nn::load_training_state(dir.path, other, o, r, other_meta),
                      Contains("model.causal is on, the model has off"));
    CHECK(values(other.named_parameters()) == before);
  }
  SECTION("another optimizer") {
    nn::SGD<float> sgd(model.named_parameters(), 0.1, 0.9);
    CHECK_THROWS_WITH(nn::load_training_state(dir.path, model, sgd, data, kMeta), Contains("exp_avg"));
  }
  SECTION("files from different steps") {
    const std::string stale = dir.path + "_stale_model.safetensors";  // outside: a save replaces the directory
    std::filesystem::copy_file(dir.path + "/model.safetensors", stale);
    train(model, opt, data, 1);
    nn::save_training_state(dir.path, model, opt, data, kMeta);
    std::filesystem::rename(stale, dir.path + "/model.safetensors");  // an older model beside a newer optimizer
    CHECK_THROWS_WITH(nn::load_training_state(dir.path, model, opt, data, kMeta), Contains("different steps"));
  }
  SECTION("a missing directory") {
    CHECK_THROWS_WITH(nn::load_training_state("no_such_run_dir", model, opt, data, kMeta), Contains("cannot open"));
  }
}
