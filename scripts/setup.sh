#!/usr/bin/env bash
# Installs the Debian 12 packages this project builds with, if any are missing. Idempotent:
# when everything is present it only runs `dpkg -s` and exits.
#   --with-torch  also installs Debian's PyTorch, the oracle of the cross-check test (large: ~230
#                 packages; without it that test reports itself skipped)
set -euo pipefail

packages=(
  g++ cmake make
  libxtensor-dev libxsimd-dev                       # tensors (xsimd: vectorised elementwise math)
  libxsmm-dev                                       # GEMM: JIT kernels for the CPU's instruction set
  libopenblas-dev                                   # GEMM: the reference backend; pinned in CMakeLists.txt
  libtbb-dev                                        # the one owner of parallelism (in a process)
  libopenmpi-dev openmpi-bin                        # data-parallel training across processes (MPI)
  catch2                                            # unit tests
  nlohmann-json3-dev                                # checkpoint headers (safetensors JSON)
  libyaml-cpp-dev libcli11-dev                      # the icalign program: YAML configs, command line
  python3-matplotlib                                # icalign plot
  python3-scipy python3-yaml                        # the claims and the tables of the docs (experiments/analysis)
  libbenchmark-dev                                  # op-level kernel benchmarks (Google Benchmark)
  clang libclang-rt-14-dev                          # libFuzzer targets of the test suite
)
if [ "${1:-}" = "--with-torch" ]; then
  packages+=(python3-torch python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
