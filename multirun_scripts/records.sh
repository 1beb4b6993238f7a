#!/usr/bin/env bash
# The documented sweeps whose runs the repository does not hold yet, run again with the settings
# and seeds their reports record, one sweep at a time, cheapest first, and each sweep's jobs one
# at a time (_sweep.sh's run_jobs: job N in its own folder ROOT/NAME/N, a checkpoint after every
# epoch). So the script can be stopped and started again and goes on where it was: a finished
# job is skipped, a stopped one resumes from its checkpoint. Once a sweep's jobs are all done,
# their checkpoints are deleted and its records
# (python -m ff_lightning.records) replace docs/results/NAME/'s old report, which is then written
# from them (python -m ff_lightning.report docs/results/NAME --no-wandb). A sweep whose records
# are there is skipped.
#
# Usage: multirun_scripts/records.sh [--plan] [--only NAME]
#   --plan          print the sweeps in order, whether each is done, its runs and its epochs
#   --only NAME     run one sweep only
#   FF_RECORDS_ROOT where the sweep folders go (default outputs/records)
#   FF_RECORDS_KEEP where the records are kept, one folder a sweep (default docs/results)
#   FF_SWEEP_DRY_RUN=1  print each train.py command line instead of running it
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh

root=${FF_RECORDS_ROOT:-outputs/records}
keep_root=${FF_RECORDS_KEEP:-docs/results}
plan=0
only=""
while [ $# -gt 0 ]; do
  case $1 in
    --plan) plan=1 ;;
    --only) only=$2; shift ;;
    *) echo "records.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# every job's common settings: CSV logs, checkpoints (callbacks=default), no progress bar; and
# validation every 5 epochs on the last 10k training images
common="logger=csv callbacks=default trainer.enable_progress_bar=false"
val="dataset.val_size=10000 trainer.check_val_every_n_epoch=5"
mlp4="experiment=paper_mnist model.hidden_dims=[500,500,500,500]"

# NAME RUNS EPOCHS_EACH overrides..., one line a sweep (seeds 0-2 in every one), cheapest first
sweeps() {
  echo "bounded_reachable_smoke 6 6 experiment=smoke model.threshold_range_fraction=0.5 activation=tanh,sigmoid"
  echo "bounded_reachable_4x500_5 6 5 $mlp4 trainer.max_epochs=5 $val model.threshold_range_fraction=0.5 activation=tanh,sigmoid"
  echo "threshold_constant_k_2x1000_5 15 5 experiment=paper_mnist model.hidden_dims=[1000,1000] trainer.max_epochs=5 $val threshold.k=0.1,0.25,0.5,1.0,2.0"
  echo "threshold_pyramid_4x500_5 18 5 threshold=pyramid $mlp4 trainer.max_epochs=5 $val threshold.start=0.25,0.5 threshold.end=0.5,1.0,2.0"
  echo "activations_4x500_5 21 5 $mlp4 trainer.max_epochs=5 $val activation=relu,tanh,sigmoid,gelu,leaky_relu,silu,softplus"
  echo "weights_wd_4x500_10 6 10 $mlp4 trick=weight_decay trainer.max_epochs=10 $val model=ff_mlp,backprop_mlp"
  echo "weights_lr_4x500_10 12 10 $mlp4 trainer.max_epochs=10 $val model=ff_mlp,backprop_mlp model.optimizer.lr=0.001,0.01"
  echo "threshold_constant_k_4x500_5 45 5 threshold=constant experiment=paper_mnist trainer.max_epochs=5 $val threshold.k=0.1,0.25,0.5,1.0,2.0 model.hidden_dims=[500,500],[500,500,500],[500,500,500,500]"
  echo "threshold_4x500_20 12 20 model.hidden_dims=[500,500,500,500] trainer.max_epochs=20 $val threshold=constant,pyramid,inverted_pyramid,scheduled"
  echo "reference_recipe_60 9 60 model.hidden_dims=[500,500,500,500] trainer.max_epochs=60 $val trick=none,reference_init,reference"
}
# seconds per 60k-image epoch of a 4 x 500 network on 2 CPU cores: the median training epoch of
# the records kept so far, 9 s on a 2-core AMD EPYC, one run at a time; a 2 x 1000 network costs
# about the same, the smoke size less. Not here: the conv and IMDb sweeps (cnn_vs_mlp_5 from
# cnn_vs_mlp.sh, cnn_smoke_3seeds from one train.py multirun, as docs/results.md gives them; the
# IMDb sweeps from imdb.sh and train.py multiruns, as docs/imdb.md gives them), whose sweep
# folders python -m ff_lightning.records keeps
epoch_s=9

n=0
total=0
while read -r name runs epochs overrides; do
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  n=$((n + 1))
  keep="$keep_root/$name"
  if find "$keep" -name results.json -print -quit 2>/dev/null | grep -q .; then
    state=done
  else
    state=todo
    total=$((total + runs * epochs))
  fi
  if [ "$plan" = 1 ]; then
    printf '%2d %-30s %-5s %3d runs x %2d epochs  %s\n' "$n" "$name" "$state" "$runs" "$epochs" "$overrides"
    continue
  fi
  [ "$state" = done ] && continue
  dir="$root/$name"
  # shellcheck disable=SC2086  # the overrides and common settings are words
  run_jobs "$name" $overrides -- $common "hydra.sweep.dir=$dir"
  [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ] && continue
  # shellcheck disable=SC2086
  want=$(python -m ff_lightning.run.jobs -m $overrides seed=0,1,2 | wc -l)
  have=$(find "$dir" -name results.json | wc -l)
  if [ "$have" != "$want" ]; then
    echo "records.sh: $name has $have of its $want runs' results; its records are not kept" >&2
    exit 1
  fi
  rm -rf "$dir"/*/checkpoints
  # the old report and figures go; the records and the report written from them come
  find "$keep" -maxdepth 1 -type f \( -name '*.png' -o -name report.md \) -delete
  python -m ff_lightning.records "$dir" "$keep"
  python -m ff_lightning.report "$keep" --no-wandb > /dev/null
done < <(sweeps)

if [ "$plan" = 1 ]; then
  echo "$total epochs to run: about $((total * epoch_s / 60)) min on 2 CPU cores, one sweep at a time"
fi
