#!/usr/bin/env bash
# Run a command with NVIDIA's CUDA MPS daemon up, so that the jobs of a packed sweep
# (hydra/launcher=packed) share the GPU's compute instead of taking turns; without
# nvidia-cuda-mps-control (no GPU, or no MPS) the command runs as it is.
# Usage: multirun_scripts/with_mps.sh multirun_scripts/reproduce_all.sh hydra/launcher=packed hydra.launcher.n_jobs=8
set -euo pipefail
if command -v nvidia-cuda-mps-control >/dev/null 2>&1; then
  nvidia-cuda-mps-control -d && echo "== CUDA MPS started"
  trap 'echo quit | nvidia-cuda-mps-control' EXIT
else
  echo "== no nvidia-cuda-mps-control: running without CUDA MPS"
fi
"$@"
