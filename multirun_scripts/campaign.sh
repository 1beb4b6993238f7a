#!/usr/bin/env bash
# The paper's questions at the paper's size (4 x 2000 ReLU, batch 100, Adam 1e-3, 60 epochs), in
# priority order, one run at a time. Every run has its own folder under the campaign root; a run
# whose results.json is there is skipped, and one with a checkpoint is resumed (ckpt_path=last),
# so the campaign can be stopped and started again and goes on where it was. Each finished run's
# records (python -m ff_lightning.records: results.json, config_resolved.yaml, the overrides) are
# kept in docs/results/campaign/QUESTION/RUN/, where the report reads them:
#   python -m ff_lightning.report docs/results/campaign/QUESTION
#
# Usage: multirun_scripts/campaign.sh [--plan] [--only QUESTION] [hydra overrides]
#   --plan            print the runs in order, whether each is done, and their cost; run nothing
#   --only QUESTION   run one question's runs only
#   FF_CAMPAIGN_ROOT  where the run folders go (default outputs/campaign)
#   FF_CAMPAIGN_KEEP  where the records are copied (default docs/results/campaign; empty: nowhere)
#   FF_SWEEP_DRY_RUN=1  print each train.py command line instead of running it
# Extra hydra overrides go to every run (experiment=smoke rehearses the whole campaign small).
set -euo pipefail
cd "$(dirname "$0")/.."
source multirun_scripts/_sweep.sh

root=${FF_CAMPAIGN_ROOT:-outputs/campaign}
keep=${FF_CAMPAIGN_KEEP-docs/results/campaign}
plan=0
only=""
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --plan) plan=1 ;;
    --only) only=$2; shift ;;
    *) extra+=("$1") ;;
  esac
  shift
done

# validation every 5 epochs on the last 10k training images: each question's verdict at 5, 20
# and 60 epochs comes from the same runs
full=(experiment=paper_mnist dataset.val_size=10000 trainer.check_val_every_n_epoch=5 logger=csv)
# theta = k * units with k rising 0.5 -> 1.0 over the four layers: the best pyramid at 4 x 500
pyramid=(threshold=pyramid threshold.start=0.5 threshold.end=1.0)

# QUESTION RUN overrides..., one line a run; seeds interleaved, so that the runs done so far
# always pair up
runs() {
  local s
  for s in 0 1 2; do
    echo "pyramid_vs_units pyramid_seed$s ${pyramid[*]} seed=$s"
    echo "pyramid_vs_units units_seed$s threshold=constant seed=$s"
  done
  # the paper's own setting: all 60k images trained, no validation
  for s in 1 2 0; do
    echo "paper_mnist seed$s dataset.val_size=0 seed=$s"
  done
  for s in 0 1 2; do
    echo "pyramid_vs_best_constant constant_k0.5_seed$s threshold=constant threshold.k=0.5 seed=$s"
  done
  for s in 0 1 2; do
    for a in gelu silu; do
      echo "activations ${a}_seed$s activation=$a seed=$s"
    done
  done
  for s in 0 1 2; do
    echo "adam_lr_0.01 lr0.01_seed$s model.optimizer.lr=0.01 seed=$s"
  done
  for s in 0 1 2; do
    echo "weights_ff_vs_bp backprop_seed$s model=backprop_mlp seed=$s"
  done
}
# the pyramid question's theta = units runs are the baseline of the other questions too (ReLU,
# Adam 1e-3, FF); the report reads them from there with --baseline

# seconds per epoch measured at this size: the whole step on 2 cores of an AMD EPYC, and one of
# 14 runs packed on one H100 under CUDA MPS (docs/performance.md)
cpu_epoch_s=50
gpu_packed_epoch_s=6.2
gpu_packed_jobs=14

n=0
todo=0
while read -r question name overrides; do
  [ -n "$only" ] && [ "$question" != "$only" ] && continue
  n=$((n + 1))
  dir="$root/$question/$name"
  state=$(run_state "$dir")
  [ "$state" = done ] || todo=$((todo + 1))
  if [ "$plan" = 1 ]; then
    printf '%2d %-26s %-22s %-7s %s\n' "$n" "$question" "$name" "$state" "$overrides"
    continue
  fi
  [ "$state" = done ] && continue
  # shellcheck disable=SC2086  # the overrides are words
  args=("${full[@]}" $overrides "hydra.run.dir=$dir" "${extra[@]}")
  [ "$state" = resume ] && args+=(ckpt_path=last)
  if [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ]; then
    printf '%q ' python train.py "${args[@]}"
    echo
    continue
  fi
  echo "== $question/$name: python train.py ${args[*]}"
  if python train.py "${args[@]}" && [ -n "$keep" ]; then
    python -m ff_lightning.records "$dir" "$keep/$question/$name"
  fi
done < <(runs)

if [ "$plan" = 1 ]; then
  echo "$todo of $n runs to do, 60 epochs each: about $((todo * 60 * cpu_epoch_s / 3600)) h on 2 CPU cores" \
    "one at a time; about $(awk -v t="$todo" -v e="$gpu_packed_epoch_s" -v j="$gpu_packed_jobs" \
      'BEGIN { printf "%.0f", int((t + j - 1) / j) * 60 * e / 60 }') min on one GPU," \
    "$gpu_packed_jobs at a time (hydra/launcher=packed under multirun_scripts/with_mps.sh)"
fi
