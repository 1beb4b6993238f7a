# Shared by the sweep scripts: run one Hydra multirun into a named sweep folder, then report.
# Usage (from a script): run_sweep NAME DEFAULT_OVERRIDE... -- USER_OVERRIDE...
# The user's overrides come last, so they win (seed=0 replaces the default seeds, experiment=smoke
# shrinks every job, hydra.sweep.dir=... moves the folder).
# FF_SWEEP_DRY_RUN=1 prints the train.py command line (shell-quoted) instead of running it.
run_sweep() {
  local name=$1
  shift
  local defaults=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    defaults+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  local sweep_dir="${FF_SWEEP_ROOT:-outputs/sweeps}/$name/$(date +%Y-%m-%d_%H-%M-%S)"
  local arg
  for arg in "$@"; do
    case $arg in hydra.sweep.dir=*) sweep_dir=${arg#hydra.sweep.dir=} ;; esac
  done
  if [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ]; then
    printf '%q ' python train.py -m "${defaults[@]}" seed=0,1,2 "hydra.sweep.dir=$sweep_dir" "$@"
    echo
    return
  fi
  echo "== $name: sweep folder $sweep_dir"
  python train.py -m "${defaults[@]}" seed=0,1,2 "hydra.sweep.dir=$sweep_dir" "$@"
  python -m ff_lightning.report "$sweep_dir"
}
