#!/usr/bin/env bash
# Threshold sensitivity (2307.04205's open question: how sensitive is FF to theta?), two sweeps:
#   constant_k: theta_l = k * units_l for k = 0.1 ... 2.0, at depths 2, 3 and 4
#   pyramid:    theta rising with depth from `start` to `end` x units, at the sweep's depth
# each with its report, whose heatmap draws the error over the two swept settings.
# Usage: multirun_scripts/threshold_sensitivity.sh [hydra overrides]
#   e.g. "model.hidden_dims=[500,500,500,500]" trainer.max_epochs=5 (the network of the pyramid
#   sweep; the constant sweep sets its own depths). hydra.sweep.dir=DIR puts both under DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
stamp=$(date +%Y-%m-%d_%H-%M-%S)
root="${FF_SWEEP_ROOT:-outputs/sweeps}"
base="$root/threshold_sensitivity/$stamp"
width=500
args=()
network=()
for arg in "$@"; do
  case $arg in
    hydra.sweep.dir=*) base=${arg#hydra.sweep.dir=} ;;
    # the constant sweep sets its own depths at the width the user gave
    model.hidden_dims=*)
      network=("$arg")
      width=$(echo "${arg#model.hidden_dims=}" | tr -d '[] ' | cut -d, -f1)
      ;;
    *) args+=("$arg") ;;
  esac
done
depths="[$width,$width],[$width,$width,$width],[$width,$width,$width,$width]"
run_sweep threshold_sensitivity threshold=constant threshold.k=0.1,0.25,0.5,1.0,2.0 "model.hidden_dims=$depths" -- \
  ${args[@]+"${args[@]}"} "hydra.sweep.dir=$base/constant_k"
run_sweep threshold_sensitivity threshold=pyramid threshold.start=0.25,0.5 threshold.end=0.5,1.0,2.0 -- \
  ${args[@]+"${args[@]}"} ${network[@]+"${network[@]}"} "hydra.sweep.dir=$base/pyramid"
