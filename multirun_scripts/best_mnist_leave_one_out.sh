#!/usr/bin/env bash
# The leave-one-out ablation: best_mnist (the paper's setting with trick=best, that is its five
# tricks) and, in turn, the paper's setting with four of the five, each row one trick short;
# seeds 0,1,2, and a report.md whose table says what each trick is worth in the company of the
# other four (best_mnist.sh adds each trick to the paper's setting alone instead).
# Usage: multirun_scripts/best_mnist_leave_one_out.sh [hydra overrides]
#   e.g. seed=0; experiment=smoke for a quick check; trick=[linear_decay,symba,every_layer,input_dropout]
#   for one row; or model.hidden_dims=[500,500,500,500] model.symba_alpha=0.08 trainer.max_epochs=10
#   for a reduced size. Each job runs on its own (_sweep.sh's run_jobs): given again with
#   hydra.sweep.dir=ITS_FOLDER, a stopped sweep goes on where it was
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
tricks=(hard_negatives linear_decay symba every_layer input_dropout)
rows=best
for left_out in "${tricks[@]}"; do
  kept=()
  for trick in "${tricks[@]}"; do
    [ "$trick" = "$left_out" ] || kept+=("$trick")
  done
  rows+=",[$(IFS=,; echo "${kept[*]}")]"
done
run_jobs best_mnist_leave_one_out experiment=paper_mnist "trick=$rows" -- "$@"
