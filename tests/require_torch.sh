# Sourced by the tests that need PyTorch: exits 77 (ctest's "Skipped") with the reason when
# python3-torch is missing, unless AG_REQUIRE_TORCH=1 (set by .ci/run), where that is a failure, so
# CI cannot pass without running them.
if ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  if [ "${AG_REQUIRE_TORCH:-0}" = 1 ]; then echo "FAILED (AG_REQUIRE_TORCH=1): python3-torch is not installed"; exit 1; fi
  echo "SKIPPED: python3-torch is not installed (bash scripts/setup.sh --with-torch)"; exit 77
fi
