#!/usr/bin/env bash
# best_mnist's tricks with the parts of loeweX/Forward-Forward's recipe added on top, screened on
# the validation split only (the last 10k training images; test=false leaves the test set
# untouched): best_mnist as it is (trick=none), with the reference initialisation, with peer
# normalisation from 0.5, with the linear cool-down, with SGD and momentum instead of Adam, with
# the three that keep Adam together, and with the whole recipe; validated every 5 epochs, so the
# report gives each against best_mnist at 5, 20 and 60 epochs; seeds 0,1,2.
# Each job runs on its own (_sweep.sh's run_jobs), so a stopped screen goes on where it was when
# the same command is given again with hydra.sweep.dir=ITS_FOLDER.
# Usage: multirun_scripts/best_mnist_screen.sh [hydra overrides]; the default size is 4 x 500,
#   60 epochs (model.hidden_dims=[2000,2000,2000,2000] for the paper's width)
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
tricks="none,reference_init,reference_peer,reference_cooldown,reference_sgd,[reference_init,reference_peer,reference_cooldown],reference"
run_jobs best_mnist_screen experiment=best_mnist "model.hidden_dims=[500,500,500,500]" \
  dataset.val_size=10000 test=false trainer.check_val_every_n_epoch=5 "trick=$tricks" -- "$@"
