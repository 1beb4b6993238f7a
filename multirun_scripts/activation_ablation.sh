#!/usr/bin/env bash
# Activations (2307.04205: ReLU best; bounded tanh and sigmoid fail at theta = units, since a unit
# bounded by 1 adds at most 1 to goodness). To see why, run it again with theta capped at half of
# the reachable goodness for bounded activations: model.threshold_range_fraction=0.5
# Usage: multirun_scripts/activation_ablation.sh [hydra overrides]   e.g. experiment=smoke
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
run_sweep activation_ablation activation=relu,tanh,sigmoid,gelu,leaky_relu,silu,softplus -- "$@"
