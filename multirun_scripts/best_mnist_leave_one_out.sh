#!/usr/bin/env bash
# The leave-one-out ablation: best_mnist with each of its five tricks taken away in turn (conf/without;
# without=none is best_mnist itself), seeds 0,1,2, and a report.md whose table says what each
# trick is worth in the company of the other four (best_mnist.sh adds each trick to the paper's
# setting alone instead).
# Usage: multirun_scripts/best_mnist_leave_one_out.sh [hydra overrides]
#   e.g. seed=0, or without=symba,every_layer for some of the rows, or
#   model.hidden_dims=[500,500,500,500] model.symba_alpha=0.08 trainer.max_epochs=10 for a reduced size
#   (not experiment=smoke: without=X needs experiment=best_mnist, and train.py refuses it)
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
run_sweep best_mnist_leave_one_out experiment=best_mnist \
  without=none,hard_negatives,linear_decay,symba,every_layer,input_dropout -- "$@"
