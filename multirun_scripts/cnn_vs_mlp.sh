#!/usr/bin/env bash
# Conv FF against its backprop twin and the MLPs, clean and on corrupted test images: the
# channel-wise conv FF and backprop on the same conv layers (experiment=cnn_mnist), then FF and
# backprop MLPs (experiment=mlp_mnist: 4 x 500, as many epochs); seeds 0,1,2. Every run's last checkpoint is then
# tested on the corrupted test images (RUN/corruptions.json), and one report covers both sweeps.
# Each job runs on its own (_sweep.sh's run_jobs): given again with hydra.sweep.dir=ITS_FOLDER,
# the script goes on where it stopped (finished runs and their corrupted tests are kept).
# Usage: multirun_scripts/cnn_vs_mlp.sh [hydra overrides]   e.g. experiment=smoke
#   CNN_MODELS=ff_cnn_channelwise,ff_cnn,backprop_cnn adds the label-in-image objective (ten
#   passes per image at inference, so its corrupted test costs ten times as much);
#   EVAL_JOBS=2 tests two checkpoints at a time; SEVERITIES=1,2,3 (the default) picks severities;
#   CNN_EXPERIMENT=cwcomp_mnist compares the published channel-wise network (4 layers, grouped,
#   BatchNorm, 20 epochs) instead, e.g. CNN_EXPERIMENT=cwcomp_mnist multirun_scripts/cnn_vs_mlp.sh
#   trainer.max_epochs=20 (the MLPs for as many epochs)
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh
cnn_args=()
mlp_args=()
root="${FF_SWEEP_ROOT:-outputs/sweeps}/cnn_vs_mlp/$(date +%Y-%m-%d_%H-%M-%S)"
for arg in "$@"; do
  # reproduce_all.sh's small size for every script: each part's own smoke experiment
  case $arg in
    experiment=smoke) cnn_args+=(experiment=cnn_smoke) mlp_args+=(experiment=smoke) ;;
    hydra.sweep.dir=*) root=${arg#hydra.sweep.dir=} ;;
    *) cnn_args+=("$arg") mlp_args+=("$arg") ;;
  esac
done
run_jobs cnn_vs_mlp/cnn "experiment=${CNN_EXPERIMENT:-cnn_mnist}" "model=${CNN_MODELS:-ff_cnn_channelwise,backprop_cnn}" \
  -- "${cnn_args[@]}" "hydra.sweep.dir=$root/cnn"
run_jobs cnn_vs_mlp/mlp experiment=mlp_mnist model=ff_mlp,backprop_mlp -- "${mlp_args[@]}" \
  "hydra.sweep.dir=$root/mlp"
if [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ]; then
  exit 0
fi
# a run whose corrupted test is there (a script started again) keeps it
find "$root" -path '*/checkpoints/last.ckpt' | sort | xargs -P "${EVAL_JOBS:-1}" -I{} sh -c \
  'out="$(dirname "$(dirname "$1")")/corruptions.json"; [ -f "$out" ] ||
   python -m ff_lightning.evaluate "$1" --corruptions --severities "$2" --out "$out" > /dev/null' \
  _ {} "${SEVERITIES:-1,2,3}"
python -m ff_lightning.report "$root"
