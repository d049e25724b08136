#include "experiments/lab/config.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

namespace lab {
namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument("config: " + msg); }

// Each field: its dotted name, how to read it from a YAML scalar, how to print it.
struct Field {
  std::function<void(RunConfig&, const YAML::Node&)> read;
  std::function<std::string(const RunConfig&)> write;
};

template <class V>
V scalar(const YAML::Node& n, const std::string& key, const char* what) {
  try {
    return n.as<V>();
  } catch (const YAML::Exception&) {
    bad(key + " must be " + what + ", got '" + (n.IsScalar() ? n.Scalar() : std::string("a non-scalar")) + "'");
  }
}

bool on_off(const YAML::Node& n, const std::string& key) {
  const std::string v = scalar<std::string>(n, key, "on or off");
  if (v == "on" || v == "true") return true;
  if (v == "off" || v == "false") return false;
  bad(key + " must be on or off, got '" + v + "'");
}

const std::map<std::string, Field>& fields() {
  static const std::map<std::string, Field> f = [] {
    std::map<std::string, Field> m;
    auto size = [&](const std::string& key, std::function<std::size_t&(RunConfig&)> ref) {
      m[key] = {[=](RunConfig& c, const YAML::Node& n) {
                  const long v = scalar<long>(n, key, "a positive integer");
                  if (v < 1) bad(key + " must be a positive integer, got " + std::to_string(v));
                  ref(c) = static_cast<std::size_t>(v);
                },
                [=](const RunConfig& c) { return std::to_string(ref(const_cast<RunConfig&>(c))); }};
    };
    auto integer = [&](const std::string& key, std::function<long&(RunConfig&)> ref, long min) {
      m[key] = {[=](RunConfig& c, const YAML::Node& n) {
                  const long v = scalar<long>(n, key, "an integer");
                  if (v < min) bad(key + " must be >= " + std::to_string(min) + ", got " + std::to_string(v));
                  ref(c) = v;
                },
                [=](const RunConfig& c) { return std::to_string(ref(const_cast<RunConfig&>(c))); }};
    };
    auto real = [&](const std::string& key, std::function<double&(RunConfig&)> ref, double lo, double hi) {
      m[key] = {[=](RunConfig& c, const YAML::Node& n) {
                  const double v = scalar<double>(n, key, "a number");
                  if (!(v >= lo && v <= hi)) {
                    std::ostringstream os;
                    os << key << " must be in [" << lo << ", " << hi << "], got " << v;
                    bad(os.str());
                  }
                  ref(c) = v;
                },
                [=](const RunConfig& c) {
                  std::ostringstream os;
                  os.precision(17);
                  os << ref(const_cast<RunConfig&>(c));
                  return os.str();
                }};
    };
    auto flag = [&](const std::string& key, std::function<bool&(RunConfig&)> ref) {
      m[key] = {[=](RunConfig& c, const YAML::Node& n) { ref(c) = on_off(n, key); },
                [=](const RunConfig& c) { return std::string(ref(const_cast<RunConfig&>(c)) ? "on" : "off"); }};
    };
    size("model.n_dims", [](RunConfig& c) -> std::size_t& { return c.model.n_dims; });
    size("model.n_positions", [](RunConfig& c) -> std::size_t& { return c.model.n_points; });
    size("model.n_embd", [](RunConfig& c) -> std::size_t& { return c.model.n_embd; });
    size("model.n_layer", [](RunConfig& c) -> std::size_t& { return c.model.n_layer; });
    size("model.n_head", [](RunConfig& c) -> std::size_t& { return c.model.n_head; });
    m["model.attention"] = {[](RunConfig& c, const YAML::Node& n) {
                              const std::string v = scalar<std::string>(n, "model.attention", "softmax or linear");
                              if (v != "softmax" && v != "linear")
                                bad("model.attention must be softmax or linear, got '" + v + "'");
                              c.model.attention = v == "softmax" ? nn::AttentionKind::Softmax : nn::AttentionKind::Linear;
                            },
                            [](const RunConfig& c) {
                              return std::string(c.model.attention == nn::AttentionKind::Softmax ? "softmax" : "linear");
                            }};
    flag("model.ffn", [](RunConfig& c) -> bool& { return c.model.ffn; });
    flag("model.causal", [](RunConfig& c) -> bool& { return c.model.causal; });
    real("task.reward_noise", [](RunConfig& c) -> double& { return c.task.reward_noise; }, 0.0, 1.0);
    size("training.batch_size", [](RunConfig& c) -> std::size_t& { return c.training.batch_size; });
    real("training.learning_rate", [](RunConfig& c) -> double& { return c.training.learning_rate; }, 1e-12, 10.0);
    integer("training.train_steps", [](RunConfig& c) -> long& { return c.training.train_steps; }, 1);
    integer("training.log_every", [](RunConfig& c) -> long& { return c.training.log_every; }, 1);
    integer("training.eval_every", [](RunConfig& c) -> long& { return c.training.eval_every; }, 0);
    m["training.loss"] = {[](RunConfig& c, const YAML::Node& n) {
                            const std::string v = scalar<std::string>(n, "training.loss", "pl or bt");
                            if (v != "pl" && v != "bt") bad("training.loss must be pl or bt, got '" + v + "'");
                            c.training.bradley_terry = v == "bt";
                          },
                          [](const RunConfig& c) { return std::string(c.training.bradley_terry ? "bt" : "pl"); }};
    integer("training.checkpoint_every", [](RunConfig& c) -> long& { return c.training.checkpoint_every; }, 1);
    m["training.seed"] = {[](RunConfig& c, const YAML::Node& n) {
                            c.training.seed = scalar<std::uint64_t>(n, "training.seed", "a non-negative integer");
                          },
                          [](const RunConfig& c) { return std::to_string(c.training.seed); }};
    m["training.threads"] = {[](RunConfig& c, const YAML::Node& n) {
                               const long v = scalar<long>(n, "training.threads", "an integer");
                               if (v < 0 || v > 256) bad("training.threads must be in 0..256 (0 = all cores), got " + std::to_string(v));
                               c.training.threads = static_cast<int>(v);
                             },
                             [](const RunConfig& c) { return std::to_string(c.training.threads); }};
    return m;
  }();
  return f;
}

std::string allowed_keys() {
  std::string s;
  for (const auto& [k, f] : fields()) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace

void RunConfig::validate() const {
  if (model.n_points < 3)
    bad("model.n_positions must be >= 3 (the loss starts at 2 examples), got " + std::to_string(model.n_points));
  model.validate();
  task.validate();
}

std::string RunConfig::to_yaml() const {
  std::ostringstream os;
  std::string section;
  for (const auto& [key, f] : fields()) {
    const auto dot = key.find('.');
    if (key.substr(0, dot) != section) os << (section = key.substr(0, dot)) << ":\n";
    os << "  " << key.substr(dot + 1) << ": " << f.write(*this) << "\n";
  }
  return os.str();
}

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
    const std::string s = section.first.as<std::string>();
    if (!section.second.IsMap()) bad("section '" + s + "' must be a mapping");
    for (const auto& kv : section.second) values[s + "." + kv.first.as<std::string>()] = kv.second;
  }
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) bad("override '" + o + "' must look like section.key=value");
    values[o.substr(0, eq)] = YAML::Load(o.substr(eq + 1));
  }
  RunConfig c;
  for (const auto& [key, node] : values) {
    const auto it = fields().find(key);
    if (it == fields().end()) bad("unknown key '" + key + "' (allowed: " + allowed_keys() + ")");
    it->second.read(c, node);
  }
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

}  // namespace lab
