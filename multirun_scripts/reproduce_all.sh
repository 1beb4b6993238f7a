#!/usr/bin/env bash
# Every paper result, one sweep after the other; extra hydra overrides go to each sweep.
# Usage: multirun_scripts/reproduce_all.sh [hydra overrides]   e.g. experiment=smoke
set -euo pipefail
here=$(dirname "$0")
"$here/threshold_ablation.sh" "$@"
"$here/threshold_sensitivity.sh" "$@"
"$here/activation_ablation.sh" "$@"
"$here/weights_ff_vs_bp.sh" "$@"
if [ -x "$here/imdb.sh" ]; then
  "$here/imdb.sh" "$@"
fi
