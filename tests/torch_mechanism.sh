#!/usr/bin/env bash
# The mechanism study's tools where the answer is known (torch_mechanism.py); skipped without torch.
set -euo pipefail
source "$(dirname "$0")/require_torch.sh"
/usr/bin/python3 "$(dirname "$0")/torch_mechanism.py"
