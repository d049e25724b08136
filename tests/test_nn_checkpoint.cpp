// Checkpoints: round trip, and every kind of bad file rejected with a clear message and without
// touching the model.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "nn/checkpoint.hpp"
#include "nn/files.hpp"
#include "testing.hpp"

using namespace agtest;
using Catch::Contains;

namespace {

void write_file(const std::string& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::vector<std::vector<float>> values(const nn::Module<float>& m) {
  std::vector<std::vector<float>> v;
  for (auto& p : m.parameters()) v.push_back(p.to_vector());
  return v;
}

}  // namespace

TEST_CASE("checkpoint round trip restores every parameter exactly", "[nn][checkpoint]") {
  ag::Rng r1(1), r2(2);
  const TinyNet<float> a(2, 8, r1), b(2, 8, r2);
  const std::string path = "ckpt_roundtrip.safetensors";
  nn::save_safetensors(path, a.named_parameters(), {{"step", "7"}});
  REQUIRE(values(a) != values(b));
  const auto meta = nn::load_safetensors(path, b.named_parameters());
  CHECK(values(a) == values(b));
  CHECK(meta.at("step") == "7");
  std::remove(path.c_str());
}

TEST_CASE("bad checkpoints are rejected and the model is left untouched", "[nn][checkpoint][errors]") {
  ag::Rng r1(1), r2(2);
  const TinyNet<float> a(2, 8, r1), b(2, 8, r2);
  const std::string path = "ckpt_bad.safetensors", good_path = "ckpt_good.safetensors";
  nn::save_safetensors(good_path, a.named_parameters());
  const std::string good = read_file(good_path);
  const auto before = values(b);
  auto expect_rejected = [&](const std::string& bytes, const std::string& why) {
    write_file(path, bytes);
    CHECK_THROWS_WITH(nn::load_safetensors(path, b.named_parameters()), Contains(why));
    CHECK(values(b) == before);  // never half-loaded
  };

  SECTION("missing file") {
    CHECK_THROWS_WITH(nn::load_safetensors("no/such/file.safetensors", b.named_parameters()), Contains("cannot open"));
  }
  SECTION("truncated: no header length") { expect_rejected(good.substr(0, 5), "shorter than the 8-byte"); }
  SECTION("truncated: inside the header") { expect_rejected(good.substr(0, 40), "exceeds the file"); }
  SECTION("truncated: inside the data") { expect_rejected(good.substr(0, good.size() - 4), "offsets outside the file"); }
  SECTION("a flipped bit in the data") {
    std::string bad = good;
    bad[bad.size() - 3] ^= 0x10;
    expect_rejected(bad, "checksum mismatch");
  }
  SECTION("a flipped bit in the header JSON") {
    std::string bad = good;
    bad[9] ^= 0x40;  // '"' of the first key becomes 'b'
    expect_rejected(bad, "not valid JSON");
  }
  SECTION("a shape entry that is not a non-negative integer") {
    std::string bad = good;
    const std::size_t at = bad.find("\"shape\":[") + 9;  // the first size: two digits or more, same length after
    REQUIRE(std::isdigit(static_cast<unsigned char>(bad[at + 1])));
    bad[at] = '-';
    expect_rejected(bad, "shape must hold non-negative integers");
  }
  SECTION("a shape that is not a list") {
    std::string bad = good;
    const std::size_t open = bad.find("\"shape\":[") + 8, close = bad.find(']', open);
    bad[open] = bad[close] = '"';  // the list becomes a string of the same length
    expect_rejected(bad, "shape must be a list");
  }
  SECTION("a model with other parameter names") {
    ag::Rng r(3);
    const TinyNet<float> deeper(3, 8, r);
    CHECK_THROWS_WITH(nn::load_safetensors(good_path, deeper.named_parameters()), Contains("missing tensor 'h.2."));
    const TinyNet<float> shallower(1, 8, r);
    CHECK_THROWS_WITH(nn::load_safetensors(good_path, shallower.named_parameters()), Contains("unexpected tensor 'h.1."));
  }
  SECTION("a model with other shapes") {
    ag::Rng r(4);
    const TinyNet<float> wider(2, 12, r);
    CHECK_THROWS_WITH(nn::load_safetensors(good_path, wider.named_parameters()),
                      Contains("has shape (24)") && Contains("expects (36)"));
  }
  SECTION("another dtype") {
    ag::Rng r(5);
    const TinyNet<double> as_double(2, 8, r);
    CHECK_THROWS_WITH(nn::load_safetensors(good_path, as_double.named_parameters()), Contains("dtype F32, expected F64"));
  }
  std::remove(path.c_str());
  std::remove(good_path.c_str());
}

TEST_CASE("an unwritable checkpoint path is an error that leaves nothing behind", "[nn][checkpoint][errors]") {
  ag::Rng r(1);
  const TinyNet<float> a(2, 8, r);
  CHECK_THROWS_WITH(nn::save_safetensors("no/such/dir/x.safetensors", a.named_parameters()), Contains("cannot create"));
}

TEST_CASE("a write that fails leaves the old file and no temp file, and a file in the way of a directory is an error",
          "[nn][files][errors]") {
  TempDir dir("files_errors_dir");
  nn::make_directories(dir.path + "/a/b");  // parents too
  CHECK(std::filesystem::is_directory(dir.path + "/a/b"));
  nn::write_atomically(dir.path + "/a/f.txt", "old");
  CHECK_THROWS_WITH(nn::make_directories(dir.path + "/a/f.txt"), Contains("cannot create directory") && Contains("f.txt"));
  // The target is a directory: the rename fails after the temp file was written.
  CHECK_THROWS_WITH(nn::write_atomically(dir.path + "/a/b", "new"), Contains("cannot write") && Contains("rename failed"));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path + "/a"), std::filesystem::directory_iterator()) == 2);
  CHECK(read_file(dir.path + "/a/f.txt") == "old");
  CHECK_THROWS_WITH(nn::write_atomically(dir.path + "/missing/f.txt", "x"), Contains("cannot create"));
}
