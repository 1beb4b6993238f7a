#!/usr/bin/env bash
# FF weights vs the same network trained by backprop (2307.04205: FF weights 10-20x larger).
# Usage: multirun_scripts/weights_ff_vs_bp.sh [hydra overrides]   e.g. experiment=smoke
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
run_sweep weights_ff_vs_bp model=ff_mlp,backprop_mlp -- "$@"
