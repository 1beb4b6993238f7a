#!/usr/bin/env bash
# The suite next to loeweX/Forward-Forward's training recipe, at the reference's setting (3 x 1000,
# batch 100, first 50k images for training, last 10k held out): the suite's default (trick=none),
# with the reference's peer normalisation alone, its whole recipe (trick=reference) and each of
# the recipe's parts alone; seeds 0,1,2; report.md. Compare on the validation split.
# Usage: multirun_scripts/reference_recipe.sh [hydra overrides]   e.g. trainer.max_epochs=60
#   model.hidden_dims=[500,500,500,500]; the default is 2 epochs, the reference's side-by-side run
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
tricks=none,peer_normalisation,reference,reference_sgd,reference_loss,straight_through,reference_init,reference_peer,reference_cooldown
run_sweep reference_recipe "model.hidden_dims=[1000,1000,1000]" dataset.val_size=10000 \
  trainer.max_epochs=2 "trick=$tricks" -- "$@"
