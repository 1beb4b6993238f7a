# Shared by the sweep scripts: run one Hydra multirun into a named sweep folder, then report.
# Usage (from a script): run_sweep NAME DEFAULT_OVERRIDE... -- USER_OVERRIDE...
# The user's overrides come last, so they win (seed=0 replaces the default seeds, experiment=smoke
# shrinks every job, hydra.sweep.dir=... moves the folder).
# FF_SWEEP_DRY_RUN=1 prints the train.py command line (shell-quoted) instead of running it.
run_sweep() {
  local defaults user sweep_dir
  _split_sweep_args "$@"
  if [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ]; then
    printf '%q ' python train.py -m "${defaults[@]}" seed=0,1,2 "hydra.sweep.dir=$sweep_dir" "${user[@]}"
    echo
    return
  fi
  echo "== $1: sweep folder $sweep_dir"
  python train.py -m "${defaults[@]}" seed=0,1,2 "hydra.sweep.dir=$sweep_dir" "${user[@]}"
  python -m ff_lightning.report "$sweep_dir"
}

# Splits run_sweep's and run_jobs' arguments (NAME DEFAULT_OVERRIDE... -- USER_OVERRIDE...) into
# the caller's local `defaults` and `user` arrays and its `sweep_dir`: the user's
# hydra.sweep.dir=..., else a new folder FF_SWEEP_ROOT/NAME/<time>
_split_sweep_args() {
  local name=$1 arg
  shift
  defaults=()
  user=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    defaults+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  sweep_dir="${FF_SWEEP_ROOT:-outputs/sweeps}/$name/$(date +%Y-%m-%d_%H-%M-%S)"
  for arg in "$@"; do
    case $arg in
      hydra.sweep.dir=*) sweep_dir=${arg#hydra.sweep.dir=} ;;
      *) user+=("$arg") ;;
    esac
  done
}

# What a run folder holds: `done` (a results.json that is not an interrupted run's), `resume` (a
# last checkpoint to go on from) or `todo`
run_state() {
  if [ -f "$1/results.json" ] && ! grep -q '"status": "interrupted"' "$1/results.json"; then
    echo done
  elif [ -f "$1/checkpoints/last.ckpt" ]; then
    echo resume
  else
    echo todo
  fi
}

# The same sweep, each job a train.py run of its own in SWEEP_DIR/N (N: the job's number in Hydra's
# order, as `python -m ff_lightning.run.jobs` lists them), for sweeps longer than a sitting: run
# the same command again with hydra.sweep.dir=SWEEP_DIR and it goes on where it stopped. A job
# whose results.json is there is skipped, one with a checkpoint resumes from it (ckpt_path=last;
# the default callbacks write one every epoch), one stopped before its first checkpoint starts
# again, and one that fails does not stop the others (the report counts it). The jobs share the
# W&B group that a multirun into SWEEP_DIR would give them (FF_SWEEP_DIR names it). With a
# launcher of the user's (hydra/launcher=packed: several jobs at a time on one GPU) the sweep is
# a Hydra multirun as run_sweep makes it, since only a multirun can run jobs side by side.
# Usage (from a script): run_jobs NAME DEFAULT_OVERRIDE... -- USER_OVERRIDE...
run_jobs() {
  local arg
  for arg in "$@"; do
    case $arg in hydra/launcher=*)
      run_sweep "$@"
      return
      ;;
    esac
  done
  local name=$1 defaults user sweep_dir
  _split_sweep_args "$@"
  local jobs=() i job args state
  mapfile -t jobs < <(python -m ff_lightning.run.jobs -m "${defaults[@]}" seed=0,1,2 "${user[@]}")
  [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ] || echo "== $name: ${#jobs[@]} jobs in $sweep_dir"
  for i in "${!jobs[@]}"; do
    job="$sweep_dir/$i"
    state=$(run_state "$job")
    [ "$state" = done ] && continue
    eval "args=(${jobs[$i]})"
    args+=("hydra.run.dir=$job")
    if [ "$state" = resume ]; then
      args+=(ckpt_path=last)
    elif [ "${FF_SWEEP_DRY_RUN:-0}" != 1 ]; then
      rm -rf "$job" # stopped before its first checkpoint: nothing to go on from
    fi
    if [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ]; then
      printf '%q ' python train.py "${args[@]}"
      echo
      continue
    fi
    echo "== $name/$i: python train.py ${args[*]}"
    FF_SWEEP_DIR="$sweep_dir" python train.py "${args[@]}" < /dev/null ||
      echo "== $name/$i: exit $?, going on with the next job"
  done
  [ "${FF_SWEEP_DRY_RUN:-0}" = 1 ] && return
  python -m ff_lightning.report "$sweep_dir"
}
