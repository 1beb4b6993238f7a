#!/usr/bin/env bash
# The ablation of what lies past the paper: one sweep over the tricks (conf/trick) on top of the
# paper's setting, seeds 0,1,2, and its report.md: a table with the paper's setting (trick=none),
# each trick on its own, and all of best_mnist's together (trick=best, the same config as
# experiment=best_mnist).
# Usage: multirun_scripts/best_mnist.sh [hydra overrides]
#   e.g. model.hidden_dims=[500,500,500,500] trainer.max_epochs=10 model.symba_alpha=0.08 for a
#   reduced size (SymBa's alpha is set for 2000-unit layers), seed=0 for one seed.
# hydra.sweep.dir=DIR puts the sweep in DIR instead of outputs/sweeps/best_mnist/<time>/. Each
# job runs on its own (_sweep.sh's run_jobs): given DIR again, a stopped sweep goes on where it was.
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
tricks=none,hard_negatives,linear_decay,peer_normalisation,symba,every_layer,weight_decay,dropout,input_dropout,jitter,ema,all_labels,best
run_jobs best_mnist experiment=paper_mnist "trick=$tricks" -- "$@"
