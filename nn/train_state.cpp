#include "nn/train_state.hpp"

#include <filesystem>

#include "nn/files.hpp"

namespace nn {
namespace fs = std::filesystem;

namespace {
bool complete(const std::string& dir) {
  return fs::exists(dir + "/model.safetensors") && fs::exists(dir + "/optimizer.safetensors");
}
}  // namespace

std::string training_state_dir(const std::string& dir) {
  // The save sequence is: write DIR.new; rename DIR -> DIR.old; rename DIR.new -> DIR; remove DIR.old.
  // Whenever it was interrupted, one of these three holds a complete state, newest first.
  for (const std::string& d : {dir, dir + ".new", dir + ".old"})
    if (complete(d) && (d != dir + ".new" || !fs::exists(dir))) return d;
  return "";
}

template <class T>
void save_training_state(const std::string& dir, const Module<T>& model, const Optimizer<T>& opt,
                         const ag::Rng& data_rng, const Metadata& metadata) {
  const std::string bad = first_nonfinite(model.named_parameters(), /*of_gradients=*/false);
  if (!bad.empty())
    throw CheckpointError("checkpoint " + dir + ": parameter '" + bad + "' holds a NaN or an infinity; not saved, the last checkpoint stays");
  const std::string fresh = dir + ".new", old = dir + ".old";
  std::error_code ec;
  fs::remove_all(fresh, ec);
  try {
    make_directories(fresh);
  } catch (const std::runtime_error& e) {
    throw CheckpointError("checkpoint " + dir + ": " + e.what());
  }
  const std::string step = std::to_string(opt.steps());
  Metadata meta = metadata;
  meta["step"] = step;
  try {
    save_safetensors(fresh + "/model.safetensors", model.named_parameters(), meta);
    meta["optimizer"] = opt.kind();
    meta["rng"] = data_rng.state();
    save_safetensors(fresh + "/optimizer.safetensors", opt.state(), meta);
  } catch (...) {  // a full disk: drop the half-written state, the last complete one stays
    fs::remove_all(fresh, ec);
    throw;
  }
  // Swap the complete new state in; each rename is atomic, see training_state_dir.
  fs::remove_all(old, ec);
  if (fs::exists(dir)) fs::rename(dir, old, ec);
  if (!ec) fs::rename(fresh, dir, ec);
  if (ec) throw CheckpointError("checkpoint " + dir + ": cannot swap in the new state: " + ec.message());
  fs::remove_all(old, ec);
}

template <class T>
long load_training_state(const std::string& dir_in, const Module<T>& model, Optimizer<T>& opt, ag::Rng& data_rng,
                         const Metadata& metadata, Metadata* saved_metadata) {
  std::string dir = training_state_dir(dir_in);
  if (dir.empty()) dir = dir_in;  // nothing complete: loading reports what is missing
  const std::string opt_path = dir + "/optimizer.safetensors";
  // Everything is checked before anything is loaded: read the optimizer file's metadata first by
  // loading it into scratch copies of the state.
  NamedParams<T> scratch;
  for (const auto& [name, t] : opt.state()) scratch.emplace_back(name, ag::Tensor<T>::zeros(t.shape()));
  auto meta = load_safetensors(opt_path, scratch);
  for (const auto& [key, value] : metadata) {
    const auto it = meta.find(key);
    if (it == meta.end() || it->second != value)
      throw CheckpointError("checkpoint " + opt_path + ": " + key + " is " + (it == meta.end() ? "missing" : it->second) +
                            ", the model has " + value);
  }
  if (meta["optimizer"] != opt.kind())
    throw CheckpointError("checkpoint " + opt_path + ": optimizer is '" + meta["optimizer"] + "', this run uses '" +
                          opt.kind() + "'");
  ag::Rng rng_check(0);
  try {
    rng_check.set_state(meta["rng"]);
  } catch (const std::invalid_argument&) {
    throw CheckpointError("checkpoint " + opt_path + ": the RNG state is malformed");
  }
  // The model file must come from the same step; only then is the model itself overwritten.
  NamedParams<T> model_scratch;
  for (const auto& [name, t] : model.named_parameters()) model_scratch.emplace_back(name, ag::Tensor<T>::zeros(t.shape()));
  const auto model_meta = load_safetensors(dir + "/model.safetensors", model_scratch);
  if (model_meta.count("step") == 0 || model_meta.at("step") != meta["step"])
    throw CheckpointError("checkpoint " + dir + ": model.safetensors and optimizer.safetensors come from different steps");

  auto copy_all = [](const NamedParams<T>& from, const NamedParams<T>& to) {
    for (std::size_t i = 0; i < from.size(); ++i)
      std::copy_n(from[i].second.data(), from[i].second.numel(), const_cast<T*>(to[i].second.data()));
  };
  copy_all(model_scratch, model.named_parameters());
  copy_all(scratch, opt.state());
  const long step = std::stol(meta["step"]);
  opt.set_steps(step);
  data_rng = rng_check;
  if (saved_metadata != nullptr) *saved_metadata = meta;
  return step;
}

#define NN_INSTANTIATE(T)                                                                                        \
  template void save_training_state(const std::string&, const Module<T>&, const Optimizer<T>&, const ag::Rng&,       \
                                    const Metadata&);                                                                \
  template long load_training_state(const std::string&, const Module<T>&, Optimizer<T>&, ag::Rng&, const Metadata&, \
                                    Metadata*);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

}  // namespace nn
