// What survives bad moments: a full disk (a file-size limit) mid-write, non-finite values, a second
// writer on a run directory, and child processes started without a shell.
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>

#include "experiments/train/child_process.hpp"
#include "nn/dir_lock.hpp"
#include "nn/files.hpp"
#include "nn/train_state.hpp"
#include "testing.hpp"

using namespace agtest;
using Catch::Contains;

namespace {

// Files larger than `bytes` cannot be written while this lives: writes fail with EFBIG, as on a
// disk that fills up, instead of raising SIGXFSZ (ignored here, as a shell's `trap '' XFSZ`).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_signal_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_signal_);
  }

 private:
  rlimit old_{};
  void (*old_signal_)(int) = nullptr;
};

const nn::Metadata kMeta{{"model", "tiny"}};

// A small model with a training state saved in `dir`, and the bytes of its model file.
struct SavedState {
  TempDir dir;
  ag::Rng init{1}, data{2};
  TinyNet<float> model{2, 8, init};
  nn::Adam<float> opt{model.named_parameters(), 1e-3};
  std::string model_file;
  explicit SavedState(const std::string& path) : dir(path) {
    nn::save_training_state(dir.path, model, opt, data, kMeta);
    model_file = read_file(dir.path + "/model.safetensors");
  }
};

}  // namespace

TEST_CASE("a write that hits a full disk fails, names the file and leaves the old one intact", "[reliability]") {
  TempDir dir("full_disk_write_dir");
  nn::make_directories(dir.path);
  const std::string path = dir.path + "/results.csv";
  nn::write_atomically(path, "the old contents\n");
  {
    FileSizeLimit limit(4096);
    REQUIRE_THROWS_WITH(nn::write_atomically(path, std::string(100000, 'x')),
                        Contains("cannot write '" + path + "'") && Contains("File too large"));
  }
  CHECK(read_file(path) == "the old contents\n");
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 1);  // no temp file left
}

TEST_CASE("a checkpoint that hits a full disk fails and the previous checkpoint still resumes", "[reliability]") {
  SavedState s("full_disk_checkpoint_dir");
  const std::string& dir = s.dir.path;
  // Change the weights, then fail to save them: the model file alone is over 4 KB.
  const_cast<float*>(s.model.named_parameters()[0].second.data())[0] += 1.0f;
  {
    FileSizeLimit limit(4096);
    REQUIRE_THROWS_WITH(nn::save_training_state(dir, s.model, s.opt, s.data, kMeta), Contains("File too large"));
  }
  CHECK(nn::training_state_dir(dir) == dir);
  CHECK_FALSE(std::filesystem::exists(dir + ".new"));  // the half-written state is gone
  CHECK(read_file(dir + "/model.safetensors") == s.model_file);
  ag::Rng other(7), other_data(8);
  const TinyNet<float> loaded(2, 8, other);
  nn::Adam<float> opt2(loaded.named_parameters(), 1e-3);
  CHECK(nn::load_training_state(dir, loaded, opt2, other_data, kMeta) == 0);
}

TEST_CASE("first_nonfinite names the first parameter or gradient holding a NaN or an infinity", "[reliability]") {
  ag::Rng init(1);
  const TinyNet<double> model(2, 8, init);
  const auto params = model.named_parameters();
  CHECK(nn::first_nonfinite(params, false).empty());
  CHECK(nn::first_nonfinite(params, true).empty());  // no gradients yet: nothing to flag
  ag::sum(model(ag::randn<double>({2, 3, 8}, init))).backward();
  CHECK(nn::first_nonfinite(params, true).empty());
  const_cast<double*>(params[5].second.grad().data())[3] = std::numeric_limits<double>::infinity();
  const_cast<double*>(params[9].second.grad().data())[0] = std::numeric_limits<double>::quiet_NaN();
  CHECK(nn::first_nonfinite(params, true) == params[5].first);
  CHECK(nn::first_nonfinite(params, false).empty());
  const_cast<double*>(params[7].second.data())[1] = -std::numeric_limits<double>::infinity();
  CHECK(nn::first_nonfinite(params, false) == params[7].first);
}

TEST_CASE("a checkpoint is never written with non-finite weights", "[reliability]") {
  SavedState s("nonfinite_checkpoint_dir");
  const auto params = s.model.named_parameters();
  const_cast<float*>(params[2].second.data())[0] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(nn::save_training_state(s.dir.path, s.model, s.opt, s.data, kMeta),
                      Contains("'" + params[2].first + "' holds a NaN or an infinity") && Contains("last checkpoint stays"));
  CHECK(read_file(s.dir.path + "/model.safetensors") == s.model_file);
}

TEST_CASE("a run directory has one writer: a second lock is refused, naming the holder, until the first is gone", "[reliability]") {
  TempDir dir("dir_lock_dir");
  nn::make_directories(dir.path);
  {
    const nn::DirectoryLock first(dir.path, "the first writer");
    // flock locks belong to open files, so a second open in the same process is refused too.
    REQUIRE_THROWS_AS(nn::DirectoryLock(dir.path, "the second"), nn::DirectoryBusy);
    REQUIRE_THROWS_WITH(nn::DirectoryLock(dir.path, "the second"),
                        Contains("'" + dir.path + "' is in use by pid " + std::to_string(::getpid()) + " (the first writer)"));
  }
  CHECK_NOTHROW(nn::DirectoryLock(dir.path, "the next writer"));
  REQUIRE_THROWS_WITH(nn::DirectoryLock(dir.path + "/missing", "x"), Contains("cannot open"));
}

TEST_CASE("a child process gets its arguments verbatim, with no shell in between", "[reliability]") {
  TempDir dir("child_process_dir");
  nn::make_directories(dir.path);
  const std::string marker = dir.path + "/INJECTED";
  const std::string nasty = "it's a run; touch " + marker + " $(touch " + marker + ") `touch " + marker + "`\n'\"";
  const lab::ChildResult r = lab::run_child({"/usr/bin/printf", "%s|%s", nasty, "$HOME"});
  CHECK(r.exit_status == 0);
  CHECK(r.output == nasty + "|$HOME");
  CHECK_FALSE(std::filesystem::exists(marker));

  const lab::ChildResult env = lab::run_child({"/usr/bin/env"}, {"ICALIGN_TEST_VAR=a b;c"});
  CHECK_THAT(env.output, Contains("\nICALIGN_TEST_VAR=a b;c\n") || Catch::StartsWith("ICALIGN_TEST_VAR=a b;c\n"));

  const lab::ChildResult failing = lab::run_child({"/bin/sh", "-c", "echo one; echo two >&2; exit 3"});
  CHECK(failing.exit_status == 3);
  CHECK(failing.output == "one\ntwo\n");
  CHECK(lab::last_lines("a\nb\nc\n", 2) == "b\nc\n");
  CHECK(lab::last_lines("a\nb\nc\n", 5) == "a\nb\nc\n");
  REQUIRE_THROWS_WITH(lab::run_child({"/nonexistent/program"}), Contains("cannot start /nonexistent/program"));
}
