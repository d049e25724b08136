#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the default demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target demo_mlp
./build/demo_mlp "$@"
