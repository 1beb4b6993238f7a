#!/usr/bin/env bash
# IMDb sentiment (2307.04205: 84.86 % with FF): FF, the backprop MLP and logistic regression on
# the same Word2Vec review vectors, seeds 0,1,2. The vectors are computed once and cached. Each
# job is a run of its own (_sweep.sh's run_jobs), so the same command with
# hydra.sweep.dir=SWEEP_DIR goes on where a stopped sweep was.
# Usage: multirun_scripts/imdb.sh [hydra overrides]   e.g. experiment=smoke (-> imdb_smoke)
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
args=()
for arg in "$@"; do
  # reproduce_all.sh passes its MNIST size to every script; this is IMDb's version of it
  case $arg in experiment=smoke) arg=experiment=imdb_smoke ;; esac
  args+=("$arg")
done
run_jobs imdb experiment=paper_imdb model=ff_mlp,backprop_mlp,logreg -- "${args[@]}"
