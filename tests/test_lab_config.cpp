// Config loading: defaults, overrides, round trip, and every kind of bad input named clearly.
#include <filesystem>
#include <fstream>

#include "experiments/train/config.hpp"
#include "nn/train_state.hpp"
#include "testing.hpp"

using Catch::Contains;

TEST_CASE("config: fields, overrides and a round trip through YAML", "[lab][config]") {
  const auto c = lab::parse_config("model:\n  n_layer: 4\n  attention: linear\ntask:\n  reward_noise: 0.25\n",
                                   {"model.n_head=4", "model.n_embd=64", "training.learning_rate=3e-4", "training.loss=bt",
                                    "training.eval_every=7"});
  CHECK(c.training.loss == lab::Loss::BradleyTerry);
  CHECK(c.training.eval_every == 7);
  CHECK(c.model.n_layer == 4);
  CHECK(c.model.n_head == 4);
  CHECK(c.model.attention == nn::AttentionKind::Linear);
  CHECK(c.task.reward_noise == 0.25);
  CHECK(c.training.learning_rate == 3e-4);
  CHECK(c.task.n_points == c.model.n_points);
  // Back through YAML: every field the same (compared field by field, not through to_yaml again).
  const auto again = lab::parse_config(c.to_yaml());
  CHECK(again.model.to_metadata() == c.model.to_metadata());
  CHECK(again.task.reward_noise == c.task.reward_noise);
  CHECK(again.training.batch_size == c.training.batch_size);
  CHECK(again.training.learning_rate == c.training.learning_rate);
  CHECK(again.training.train_steps == c.training.train_steps);
  CHECK(again.training.seed == c.training.seed);
  CHECK(again.training.threads == c.training.threads);
  CHECK(again.training.log_every == c.training.log_every);
  CHECK(again.training.eval_every == 7);
  CHECK(again.training.checkpoint_every == c.training.checkpoint_every);
  CHECK(again.training.loss == lab::Loss::BradleyTerry);
  CHECK(again.model.attention == nn::AttentionKind::Linear);
  // And the text itself, for a student reading a run's config.yaml.
  CHECK_THAT(c.to_yaml(), Catch::Contains("model:\n  n_dims: 5\n  n_points: 20\n  n_embd: 64\n  n_layer: 4\n  n_head: 4\n"
                                          "  attention: linear\n") &&
                              Catch::Contains("  learning_rate: 0.00029999999999999997\n") && Catch::Contains("  loss: bt\n"));
}

TEST_CASE("every shipped config is valid", "[lab][config]") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(AG_SOURCE_DIR "/experiments/configs")) {
    INFO(e.path().string());
    CHECK_NOTHROW(lab::load_config(e.path().string()));
    ++n;
  }
  CHECK(n >= 11);
}

TEST_CASE("config errors name the field and what is allowed", "[lab][config][errors]") {
  CHECK_THROWS_WITH(lab::parse_config("model:\n  n_haed: 3\n"), Contains("unknown key 'model.n_haed'") && Contains("model.n_head"));
  CHECK_THROWS_WITH(lab::parse_config("trainig:\n  seed: 1\n"), Contains("unknown key 'trainig.seed'"));
  CHECK_THROWS_WITH(lab::parse_config("model:\n  n_head: three\n"), Contains("model.n_head must be a positive integer") && Contains("'three'"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.n_layer=0"}), Contains("model.n_layer must be a positive integer, got 0"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.attention=relu"}), Contains("model.attention must be softmax or linear"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.ffn=maybe"}), Contains("model.ffn must be on or off"));
  CHECK_THROWS_WITH(lab::parse_config("", {"training.loss=mse"}), Contains("training.loss must be pl or bt"));
  CHECK_THROWS_WITH(lab::parse_config("", {"task.reward_noise=2"}), Contains("task.reward_noise must be in [0, 1]"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.n_head=5"}), Contains("model.n_embd (96) must be divisible by model.n_head (5)"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.n_points=2"}), Contains("model.n_points must be >= 3"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.n_head"}), Contains("must look like section.key=value"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.n_head=[1"}), Contains("override 'model.n_head=[1': not valid YAML"));
  CHECK_THROWS_WITH(lab::parse_config("", {"training.threads=1.5"}), Contains("training.threads must be an integer, got 1.5"));
  CHECK_THROWS_WITH(lab::parse_config("", {"training.threads=300"}), Contains("training.threads must be in [0, 256], got 300"));
  CHECK_THROWS_WITH(lab::parse_config("", {"training.seed=-1"}), Contains("training.seed must be a non-negative integer"));
  CHECK_THROWS_WITH(lab::parse_config("", {"model.n_positions=20"}), Contains("model.n_positions is now called model.n_points"));
  CHECK(lab::parse_config("", {"model.ffn=false", "model.causal=on"}).model.ffn == false);
  CHECK_THROWS_WITH(lab::parse_config("", {"model.activation=tanh"}), Contains("model.activation must be gelu or softplus"));
  // GELU's models carry no activation in their metadata (checkpoints from before the field load as they did).
  CHECK(lab::parse_config("").model.to_metadata().count("model.activation") == 0);
  CHECK(lab::parse_config("", {"model.activation=softplus"}).model.to_metadata().at("model.activation") == "softplus");
  CHECK_THROWS_WITH(lab::parse_config("model: [1, 2\n"), Contains("not valid YAML"));
  CHECK_THROWS_WITH(lab::parse_config("- 1\n- 2\n"), Contains("top level must be a mapping"));
  // Found by fuzz_config (tests/fuzz/corpus/config/crash-null-key.yaml): a key that is not a name.
  CHECK_THROWS_WITH(lab::parse_config("model:\n  ? [a, b]\n  : 1\n"), Contains("line 2 has a list or a map as a key"));
  CHECK_THROWS_AS(lab::parse_config("? \n: 1\n"), std::invalid_argument);
  CHECK_THROWS_WITH(lab::load_config("no/such/config.yaml"), Contains("cannot read config file"));
}

TEST_CASE("an interrupted checkpoint save leaves a complete state that is found", "[lab][config][resume]") {
  namespace fs = std::filesystem;
  const std::string dir = "interrupted_save_dir";
  fs::remove_all(dir);
  fs::remove_all(dir + ".new");
  fs::remove_all(dir + ".old");
  CHECK(nn::training_state_dir(dir).empty());
  auto make = [](const std::string& d) {
    fs::create_directories(d);
    std::ofstream(d + "/model.safetensors") << "x";
    std::ofstream(d + "/optimizer.safetensors") << "x";
  };
  make(dir + ".old");  // killed after "rename DIR -> DIR.old", while DIR.new was still incomplete
  fs::create_directories(dir + ".new");
  CHECK(nn::training_state_dir(dir) == dir + ".old");
  make(dir + ".new");  // killed between the two renames: DIR.new is complete
  CHECK(nn::training_state_dir(dir) == dir + ".new");
  make(dir);  // killed while writing the next DIR.new: DIR is the newest complete state
  CHECK(nn::training_state_dir(dir) == dir);
  fs::remove_all(dir);
  fs::remove_all(dir + ".new");
  fs::remove_all(dir + ".old");
}
