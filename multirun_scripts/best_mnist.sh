#!/usr/bin/env bash
# Issue 7's ablation: the paper's setting next to best_mnist, then each trick added to the paper's
# setting on its own, every sweep over seeds 0,1,2 with its own report.md.
# Usage: multirun_scripts/best_mnist.sh [hydra overrides]
#   e.g. model.hidden_dims=[500,500,500,500] trainer.max_epochs=10 model.symba_alpha=0.08 for a
#   reduced size.
# hydra.sweep.dir=DIR puts the sweeps in DIR/<name>/ instead of outputs/sweeps/best_mnist/<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${FF_SWEEP_ROOT:-outputs/sweeps}/best_mnist/$(date +%Y-%m-%d_%H-%M-%S)"
user=()
for arg in "$@"; do
  case $arg in
    hydra.sweep.dir=*) root=${arg#hydra.sweep.dir=} ;;
    *) user+=("$arg") ;;
  esac
done
sweep() {  # NAME OVERRIDE...: one multirun into $root/NAME, then its report
  local name=$1
  shift
  echo "== $name: sweep folder $root/$name"
  python train.py -m "$@" seed=0,1,2 "hydra.sweep.dir=$root/$name" "${user[@]}"
  python -m ff_lightning.report "$root/$name"
}
sweep paper_vs_best experiment=paper_mnist,best_mnist
sweep hard_negatives experiment=paper_mnist model.negatives=uniform,hard
sweep lr_schedule experiment=paper_mnist model.lr_schedule=constant,linear_decay
sweep peer_normalisation experiment=paper_mnist model.peer_normalisation=0,0.03
# SymBa's alpha multiplies G_pos - G_neg, a sum over the layer's units: 0.02 is best_mnist's value
# for 2000 units (alpha x units = 40); pass model.symba_alpha=0.08 with 500-unit layers
sweep symba experiment=paper_mnist model.objective=threshold,symba model.symba_alpha=0.02
sweep goodness_layers experiment=paper_mnist model.goodness_from_layer=1,0
# decoupled weight decay (AdamW; with 0 it is Adam)
sweep weight_decay experiment=paper_mnist model.optimizer._target_=torch.optim.AdamW model.optimizer.weight_decay=0,0.05
sweep dropout experiment=paper_mnist model.dropout=0,0.3
