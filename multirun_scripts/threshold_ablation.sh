#!/usr/bin/env bash
# Threshold schedules (2307.04205: pyramidal thresholds, rising with depth, beat the others).
# Usage: multirun_scripts/threshold_ablation.sh [hydra overrides]   e.g. experiment=smoke
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
run_sweep threshold_ablation threshold=constant,pyramid,inverted_pyramid,scheduled -- "$@"
