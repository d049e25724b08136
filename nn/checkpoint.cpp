#include "nn/checkpoint.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "nn/files.hpp"

namespace nn {
namespace {

using json = nlohmann::json;
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

template <class T>
constexpr const char* dtype_name() { return sizeof(T) == 4 ? "F32" : "F64"; }

// FNV-1a over n bytes, continuing from h (start with the default to hash from scratch).
std::uint64_t fnv1a64(const char* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
  return h;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw CheckpointError("checkpoint " + path + ": " + what);
}

// A header list of sizes or offsets. Each entry must be a JSON unsigned integer: nlohmann would convert
// a float (a number too large for 64 bits parses as one) or a negative integer without complaint, and a
// float out of range is undefined behaviour.
template <class List>
List unsigned_list(const json& j, const std::string& path, const std::string& tensor, const std::string& field) {
  if (!j.is_array()) fail(path, "tensor '" + tensor + "': " + field + " must be a list");
  List out;
  for (const json& v : j) {
    if (!v.is_number_unsigned()) fail(path, "tensor '" + tensor + "': " + field + " must hold non-negative integers, got " + v.dump());
    out.push_back(v.template get<typename List::value_type>());
  }
  return out;
}

}  // namespace

template <class T>
void save_safetensors(const std::string& path, const NamedParams<T>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // The header first (offsets depend only on sizes; the checksum runs over the tensors in order),
  // then one buffer holding the whole file: the tensors are copied once.
  json header = json::object();
  std::size_t bytes_total = 0;
  std::uint64_t checksum = fnv1a64(nullptr, 0);
  for (const auto& [name, t] : tensors) {
    const std::size_t bytes = t.numel() * sizeof(T);
    header[name] = {{"dtype", dtype_name<T>()}, {"shape", t.shape()}, {"data_offsets", {bytes_total, bytes_total + bytes}}};
    checksum = fnv1a64(reinterpret_cast<const char*>(t.data()), bytes, checksum);
    bytes_total += bytes;
  }
  json meta = metadata;
  meta["fnv1a64"] = std::to_string(checksum);
  header["__metadata__"] = meta;
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned, as the format advises
  const std::uint64_t hlen = h.size();

  std::string file;
  file.reserve(8 + h.size() + bytes_total);
  file.append(reinterpret_cast<const char*>(&hlen), 8).append(h);
  for (const auto& [name, t] : tensors) file.append(reinterpret_cast<const char*>(t.data()), t.numel() * sizeof(T));
  try {
    write_atomically(path, file);
  } catch (const std::runtime_error& e) {
    throw CheckpointError(e.what());
  }
}

template <class T>
std::map<std::string, std::string> load_safetensors(const std::string& path, const NamedParams<T>& into) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 8) fail(path, "file is " + std::to_string(file.size()) + " bytes, shorter than the 8-byte header length");
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, file.data(), 8);
  if (hlen > file.size() - 8) fail(path, "header length " + std::to_string(hlen) + " exceeds the file (" +
                                             std::to_string(file.size()) + " bytes): truncated or corrupt");
  json header;
  try {
    header = json::parse(file.begin() + 8, file.begin() + 8 + static_cast<long>(hlen));
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");
  const char* data = file.data() + 8 + hlen;
  const std::size_t data_size = file.size() - 8 - hlen;

  std::map<std::string, std::string> metadata;
  try {
    if (header.contains("__metadata__")) metadata = header["__metadata__"].get<std::map<std::string, std::string>>();
  } catch (const json::exception&) {
    fail(path, "__metadata__ must map strings to strings");
  }
  // Every tensor in the file must be expected, and vice versa.
  std::map<std::string, const ag::Tensor<T>*> wanted;
  for (const auto& [name, t] : into) wanted[name] = &t;
  std::size_t covered = 0;
  std::vector<std::pair<const ag::Tensor<T>*, std::size_t>> copies;  // destination, begin offset
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const auto it = wanted.find(name);
    if (it == wanted.end()) fail(path, "unexpected tensor '" + name + "' (the model has no parameter of that name)");
    const ag::Tensor<T>& t = *it->second;
    try {
      const std::string dtype = entry.at("dtype").template get<std::string>();
      if (dtype != dtype_name<T>())
        fail(path, "tensor '" + name + "' has dtype " + dtype + ", expected " + dtype_name<T>());
      const auto shape = unsigned_list<ag::Shape>(entry.at("shape"), path, name, "shape");
      if (shape != t.shape())
        fail(path, "tensor '" + name + "' has shape " + ag::shape_str(shape) + ", the model expects " + ag::shape_str(t.shape()));
      const auto off = unsigned_list<std::vector<std::size_t>>(entry.at("data_offsets"), path, name, "data_offsets");
      if (off.size() != 2 || off[0] > off[1] || off[1] > data_size || off[1] - off[0] != t.numel() * sizeof(T))
        fail(path, "tensor '" + name + "' has data offsets outside the file or of the wrong size (" +
                       std::to_string(data_size) + " data bytes)");
      covered += off[1] - off[0];
      copies.emplace_back(&t, off[0]);
    } catch (const json::exception& e) {
      fail(path, "tensor '" + name + "' has a malformed header entry: " + e.what());
    }
    wanted.erase(it);
  }
  if (!wanted.empty()) fail(path, "missing tensor '" + wanted.begin()->first + "'");
  if (covered != data_size) fail(path, "tensor data does not exactly fill the file: overlapping or trailing bytes");
  if (metadata.count("fnv1a64") && metadata["fnv1a64"] != std::to_string(fnv1a64(data, data_size)))
    fail(path, "checksum mismatch: the tensor data is corrupt");

  for (auto& [t, begin] : copies) std::memcpy(const_cast<T*>(t->data()), data + begin, t->numel() * sizeof(T));
  return metadata;
}

template void save_safetensors(const std::string&, const NamedParams<float>&, const std::map<std::string, std::string>&);
template void save_safetensors(const std::string&, const NamedParams<double>&, const std::map<std::string, std::string>&);
template std::map<std::string, std::string> load_safetensors(const std::string&, const NamedParams<float>&);
template std::map<std::string, std::string> load_safetensors(const std::string&, const NamedParams<double>&);

}  // namespace nn
