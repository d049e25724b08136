#include "experiments/train/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "nn/files.hpp"

namespace lab {
namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument("config: " + msg); }

// The kinds of value a field takes, each with what is allowed.
struct AtLeast { long min; };                   // an integer >= min
struct InRange { double lo, hi; };              // a number in [lo, hi]
struct OnOff {};                                // on/off (or true/false)
struct AnySeed {};                              // a non-negative 64-bit integer
template <class V>
struct OneOf { std::vector<std::pair<const char*, V>> names; };

// The table of every field: its dotted name, where it lives, and what is allowed. C is RunConfig
// (to read) or const RunConfig (to write); `visit` is called once per field, in this order.
template <class C, class Visit>
void for_each_field(C& c, Visit&& visit) {
  visit("model.n_dims", c.model.n_dims, AtLeast{2});  // y* and e need two directions
  visit("model.n_points", c.model.n_points, AtLeast{3});  // the loss starts at 2 examples
  visit("model.n_embd", c.model.n_embd, AtLeast{1});
  visit("model.n_layer", c.model.n_layer, AtLeast{1});
  visit("model.n_head", c.model.n_head, AtLeast{1});
  visit("model.attention", c.model.attention,
        OneOf<nn::AttentionKind>{{{"softmax", nn::AttentionKind::Softmax}, {"linear", nn::AttentionKind::Linear}}});
  visit("model.ffn", c.model.ffn, OnOff{});
  visit("model.activation", c.model.activation,
        OneOf<nn::Activation>{{{"gelu", nn::Activation::Gelu}, {"softplus", nn::Activation::Softplus}}});
  visit("model.causal", c.model.causal, OnOff{});
  visit("task.reward_noise", c.task.reward_noise, InRange{0.0, 1.0});
  visit("task.responses", c.task.responses, OneOf<Responses>{{{"line", Responses::Line}, {"spread", Responses::Spread}}});
  visit("training.batch_size", c.training.batch_size, AtLeast{1});
  visit("training.learning_rate", c.training.learning_rate, InRange{1e-12, 10.0});
  visit("training.train_steps", c.training.train_steps, AtLeast{1});
  visit("training.log_every", c.training.log_every, AtLeast{1});
  visit("training.eval_every", c.training.eval_every, AtLeast{0});
  visit("training.loss", c.training.loss, OneOf<Loss>{{{"pl", Loss::PlackettLuce}, {"bt", Loss::BradleyTerry}}});
  visit("training.checkpoint_every", c.training.checkpoint_every, AtLeast{1});
  visit("training.snapshot_every", c.training.snapshot_every, AtLeast{0});
  visit("training.micro_batches", c.training.micro_batches, AtLeast{1});
  visit("training.on_policy", c.training.on_policy, AtLeast{0});
  visit("training.on_policy_explore", c.training.on_policy_explore, InRange{0.0, 100.0});
  visit("training.seed", c.training.seed, AnySeed{});
  visit("training.threads", c.training.threads, InRange{0, 256});  // 0 = all cores
}

// Keys of earlier versions, and what they are called now.
const std::map<std::string, std::string> kRenamed{{"model.n_positions", "model.n_points"}};

template <class V>
V scalar(const YAML::Node& n, const std::string& key, const std::string& what) {
  try {
    return n.as<V>();
  } catch (const YAML::Exception&) {
    bad(key + " must be " + what + ", got '" + (n.IsScalar() ? n.Scalar() : std::string("a non-scalar")) + "'");
  }
}

std::string str(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// Reading one field from its YAML scalar, checked against what is allowed.
struct Reader {
  const std::map<std::string, YAML::Node>& values;

  template <class F, class Rule>
  void operator()(const std::string& key, F& field, const Rule& rule) const {
    const auto it = values.find(key);
    if (it != values.end()) read(key, it->second, field, rule);
  }
  template <class F>
  static void read(const std::string& key, const YAML::Node& n, F& field, AtLeast r) {
    const long v = scalar<long>(n, key, r.min == 1 ? "a positive integer" : "an integer");
    if (v < r.min)
      bad(key + " must be " + (r.min == 1 ? std::string("a positive integer") : ">= " + std::to_string(r.min)) +
          ", got " + std::to_string(v));
    field = static_cast<F>(v);
  }
  template <class F>
  static void read(const std::string& key, const YAML::Node& n, F& field, InRange r) {
    const double v = scalar<double>(n, key, "a number");
    if (!(v >= r.lo && v <= r.hi)) bad(key + " must be in [" + str(r.lo) + ", " + str(r.hi) + "], got " + str(v));
    if constexpr (std::is_integral_v<F>) {
      if (v != static_cast<double>(static_cast<F>(v))) bad(key + " must be an integer, got " + str(v));
    }
    field = static_cast<F>(v);
  }
  static void read(const std::string& key, const YAML::Node& n, bool& field, OnOff) {
    const std::string v = scalar<std::string>(n, key, "on or off");
    if (v != "on" && v != "true" && v != "off" && v != "false") bad(key + " must be on or off, got '" + v + "'");
    field = v == "on" || v == "true";
  }
  static void read(const std::string& key, const YAML::Node& n, std::uint64_t& field, AnySeed) {
    field = scalar<std::uint64_t>(n, key, "a non-negative integer");
  }
  template <class F>
  static void read(const std::string& key, const YAML::Node& n, F& field, const OneOf<F>& r) {
    std::string allowed;
    for (const auto& [name, value] : r.names) allowed += (allowed.empty() ? "" : " or ") + std::string(name);
    const std::string v = scalar<std::string>(n, key, allowed);
    for (const auto& [name, value] : r.names)
      if (v == name) {
        field = value;
        return;
      }
    bad(key + " must be " + allowed + ", got '" + v + "'");
  }
};

// Printing one field as YAML that reads back to the same value.
struct Writer {
  std::ostringstream& os;
  mutable std::string section;

  template <class F, class Rule>
  void operator()(const std::string& key, const F& field, const Rule& rule) const {
    const auto dot = key.find('.');
    if (key.substr(0, dot) != section) os << (section = key.substr(0, dot)) << ":\n";
    os << "  " << key.substr(dot + 1) << ": " << text(field, rule) << "\n";
  }
  template <class F, class Rule>
  static std::string text(const F& field, const Rule&) {
    if constexpr (std::is_floating_point_v<F>) return str(field);
    else return std::to_string(field);
  }
  static std::string text(bool field, OnOff) { return field ? "on" : "off"; }
  template <class F>
  static std::string text(const F& field, const OneOf<F>& r) {
    for (const auto& [name, value] : r.names)
      if (value == field) return name;
    return "?";
  }
};

std::vector<std::string> keys() {
  std::vector<std::string> k;
  const RunConfig c;
  for_each_field(c, [&](const std::string& key, const auto&, const auto&) { k.push_back(key); });
  return k;
}

}  // namespace

void RunConfig::validate() const {
  if (model.n_points < 3)
    bad("model.n_points must be >= 3 (the loss starts at 2 examples), got " + std::to_string(model.n_points));
  model.validate();
  task.validate();
  if (training.batch_size % training.micro_batches != 0)
    bad("training.batch_size (" + std::to_string(training.batch_size) + ") must be divisible by training.micro_batches (" +
        std::to_string(training.micro_batches) + ")");
  if (training.on_policy > 0 && training.on_policy + 2 > model.n_points)
    bad("training.on_policy (" + std::to_string(training.on_policy) + ") must leave a sampled triplet before and an x-token after the "
        "model's own answers: at most model.n_points - 2 = " + std::to_string(model.n_points - 2));
  if (training.on_policy_explore > 0 && training.on_policy == 0)
    bad("training.on_policy_explore needs training.on_policy > 0 (the number of the model's own answers per context)");
  if (training.on_policy > 0 && !model.causal)
    bad("training.on_policy needs model.causal: on (an unmasked model's earlier answers would see the triplets after them)");
}

std::string RunConfig::to_yaml() const {
  std::ostringstream os;
  for_each_field(*this, Writer{os, {}});
  return os.str();
}

namespace {
// A mapping's key as text; keys are plain names, so a list, a map or an empty key is an error.
std::string key_name(const YAML::Node& key) {
  if (!key.IsScalar() || key.Scalar().empty())
    bad("every key must be a plain name (line " + std::to_string(key.Mark().line + 1) + " has " +
        (key.IsNull() ? "an empty key" : key.IsScalar() ? "an empty key" : "a list or a map as a key") + ")");
  return key.Scalar();
}
}  // namespace

RunConfig parse_config(const std::string& yaml_text, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    bad(std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsNull() && !root.IsMap()) bad("the top level must be a mapping of sections (model, task, training)");
  std::map<std::string, YAML::Node> values;  // dotted key -> scalar
  for (const auto& section : root) {
    const std::string s = key_name(section.first);
    if (!section.second.IsMap()) bad("section '" + s + "' must be a mapping");
    for (const auto& kv : section.second) values[s + "." + key_name(kv.first)] = kv.second;
  }
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) bad("override '" + o + "' must look like section.key=value");
    try {
      values[o.substr(0, eq)] = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      bad("override '" + o + "': not valid YAML: " + e.what());
    }
  }
  const std::vector<std::string> known = keys();
  for (const auto& [key, node] : values) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (kRenamed.count(key)) bad(key + " is now called " + kRenamed.at(key));
    std::string allowed;
    for (const auto& k : known) allowed += (allowed.empty() ? "" : ", ") + k;
    bad("unknown key '" + key + "' (allowed: " + allowed + ")");
  }
  RunConfig c;
  for_each_field(c, Reader{values});
  c.task.n_dims = c.model.n_dims;
  c.task.n_points = c.model.n_points;
  c.validate();
  return c;
}

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) bad("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), overrides);
}

RunConfig load_run_config(const std::string& run_dir) {
  if (!nn::path_exists(run_dir + "/config.yaml"))
    throw std::runtime_error("'" + run_dir + "' is not a run directory (no config.yaml)");
  return load_config(run_dir + "/config.yaml");
}

}  // namespace lab
