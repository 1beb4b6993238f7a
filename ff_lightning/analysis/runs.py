"""A sweep folder's runs: reading every results.json, what each run set (its overrides and
config-group choices), which settings the sweep swept, and the runs grouped by them."""

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ff_lightning.run.results import read_results

MODES = ("test/error_goodness", "test/error_head")
# how a report names the split its tables and figures give the error of
SPLITS = {"test": "test", "val": "validation"}


def error_keys(split: str) -> tuple[str, str]:
    """results.json's keys of a split's error in both inference modes: `test/error_goodness`..."""
    return (f"{split}/error_goodness", f"{split}/error_head")


def judged_split(runs: list[dict[str, Any]]) -> str:
    """The split a sweep's runs are summarised on: the test set, or, where none of them ran it
    (test=false: a screen on the validation split), the validation split."""
    return "test" if any(r.get(key) is not None for r in runs for key in MODES) else "val"


# not settings of a run: its seed, its folders, and how it was started (a resumed run, one that
# replaced an earlier run's files) are the same experiment
IGNORED_KEYS = {"seed", "hydra.sweep.dir", "hydra.run.dir", "hydra.sweep.subdir", "ckpt_path", "overwrite"}
# settings that say how a run is kept and shown, never what it learns: a sweep whose runs differ
# in them (some kept checkpoints, some not) has not swept them
NOT_SWEPT = IGNORED_KEYS | {"callbacks", "logger", "trainer.enable_progress_bar"}


def load_runs(sweep_dir: Path) -> tuple[list[dict[str, Any]], list[Path]]:
    """All readable results.json under sweep_dir, and the job folders (holding .hydra/ or an
    unreadable results.json) that have none: those count as failed."""
    runs, unreadable = [], []
    for path in sorted(sweep_dir.rglob("results.json"), key=sweep_order):
        run = read_results(path)
        if run is None:
            unreadable.append(path.parent)
            continue
        run["_dir"] = str(path.parent)
        runs.append(run)
    done = {Path(r["_dir"]) for r in runs}
    failed = {p.parent for p in sweep_dir.rglob(".hydra") if p.parent not in done}
    return runs, sorted(failed | set(unreadable), key=sweep_order)


def sweep_order(path: Path) -> list[tuple[int, int | str]]:
    """Job folders in the order the sweep ran them: 2/ before 10/ (Hydra numbers them)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in path.parts]


def _overrides(run: dict[str, Any]) -> dict[str, str]:
    """key -> value of what the run's command line set."""
    return dict(item.lstrip("+~").partition("=")[::2] for item in run.get("overrides", []))


def settings(run: dict[str, Any]) -> dict[str, str]:
    """key -> value of the run's overrides, with config-group choices filled in."""
    return {**{k: str(v) for k, v in run.get("choices", {}).items()}, **_overrides(run)}


_ABSENT = object()


def _as_typed(value: Any) -> str:
    """A config value spelled as on a command line: 0.2, false, [500,500]."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ",".join(_as_typed(v) for v in value) + "]"
    return str(value)


def run_settings(runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """settings() of each run; a key that another run's command line set is read from this run's
    resolved config where its own command line did not set it, so that a value a group option
    set (trick=input_dropout: model.input_dropout=0.2) is not reported as "(default)"."""
    per_run = [settings(run) for run in runs]
    typed = {k for run in runs for k in _overrides(run) if k not in IGNORED_KEYS and "." in k}
    for run, values in zip(runs, per_run, strict=True):
        resolved = Path(run.get("_dir", "")) / "config_resolved.yaml"
        missing = typed - values.keys()
        if not missing or "_dir" not in run or not resolved.exists():
            continue
        cfg = OmegaConf.load(resolved)
        for key in missing:
            value = OmegaConf.select(cfg, key, default=_ABSENT)
            if OmegaConf.is_config(value):
                value = OmegaConf.to_container(value)
            if value is not _ABSENT:
                values[key] = _as_typed(value)
    return per_run


def swept_keys(runs: list[dict[str, Any]], per_run: list[dict[str, str]] | None = None) -> list[str]:
    """Settings whose value differs between runs (seeds aside): what the sweep compared.

    `per_run` is run_settings(runs), when the caller has it already."""
    per_run = run_settings(runs) if per_run is None else per_run
    all_keys = {k for s in per_run for k in s}
    values = {k: {s.get(k, "(default)") for s in per_run} for k in all_keys}  # missing varies too
    swept = sorted(k for k, v in values.items() if len(v) > 1 and k not in NOT_SWEPT)
    typed = {k for run in runs for k in _overrides(run)}
    # a group that a swept option switches on (trick=ema sets weight_averaging=ema) would only
    # repeat that option's table under another name
    return [
        k
        for k in swept
        if k in typed or not any(o in typed and _follows(per_run, k, o) for o in swept if o != k)
    ]


def declared_sweep(sweep_dir: Path) -> list[str] | None:
    """What the sweep swept, as Hydra recorded it in SWEEP_DIR/multirun.yaml: the keys of its
    sweep overrides (`activation=relu,tanh`, `choice(...)`, `range(...)`; seeds aside) and, for a
    search, the sweeper's parameters. None without that file (a folder of several sweeps)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    path = sweep_dir / "multirun.yaml"
    if not path.is_file():
        return None
    cfg = OmegaConf.load(path)
    task = OmegaConf.select(cfg, "hydra.overrides.task", default=None) or []
    keys: list[str] = []
    for override in OverridesParser.create().parse_overrides([str(t) for t in task]):
        key = override.key_or_group.lstrip("+~")
        if override.is_sweep_override() and key not in IGNORED_KEYS and key not in keys:
            keys.append(key)
    params = OmegaConf.select(cfg, "hydra.sweeper.params", default=None) or {}
    return keys + [str(k) for k in params if str(k) not in keys]


def sweep_keys(sweep_dir: Path, runs: list[dict[str, Any]], per_run: list[dict[str, str]]) -> list[str]:
    """What the sweep compared: what Hydra says it swept, else what differs between the runs."""
    return declared_sweep(sweep_dir) or swept_keys(runs, per_run)


def fold_confounded(keys: list[str], per_run: list[dict[str, str]]) -> tuple[list[str], list[dict[str, str]]]:
    """Swept keys whose values come one-to-one with an earlier key's (threshold.start=0.5 only
    ever with threshold=pyramid) cannot be told apart by these runs: they get no table of their
    own, and their values are written beside the earlier key's (`pyramid (threshold.end=1.0
    threshold.start=0.5)`). The model is never folded: it pairs FF with its backprop twin."""
    kept: list[str] = []
    followers: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        lead = next(
            (
                o
                for o in kept
                if "model" not in (o, key) and _follows(per_run, key, o) and _follows(per_run, o, key)
            ),
            None,
        )
        if lead is None:
            kept.append(key)
        else:
            followers[lead].append(key)
    if not followers:
        return keys, per_run
    folded = []
    for values in per_run:
        values = dict(values)
        for lead, keys_of in followers.items():
            extra = [f"{k}={values[k]}" for k in keys_of if k in values]
            if extra:
                values[lead] = f"{values.get(lead, '(default)')} ({' '.join(extra)})"
        folded.append(values)
    return kept, folded


def _follows(per_run: list[dict[str, str]], key: str, other: str) -> bool:
    """Whether each value of `other` comes with a single value of `key` in every run."""
    seen: dict[str, str] = {}
    for s in per_run:
        a, b = s.get(other, "(default)"), s.get(key, "(default)")
        if seen.setdefault(a, b) != b:
            return False
    return True


def run_at_chance(run: dict[str, Any], mode: str) -> bool:
    """Whether the run's error in this inference mode (test/error_goodness, val/error_head) is at
    chance level, as the run judged it on the split it was measured on."""
    return bool((run.get("at_chance") or {}).get(mode.split("/error_")[-1]))


# each FF model and its backprop twin (the same layers), whose weights the report compares
TWINS = (("ff_mlp", "backprop_mlp"), ("ff_cnn_channelwise", "backprop_cnn"), ("ff_cnn", "backprop_cnn"))


def by_model(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run.get("weights"):
            out[run.get("choices", {}).get("model", "ff_mlp")].append(run)
    return out


def mean_weights(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    layers = runs[0]["weights"].keys()
    return {
        layer: {
            stat: statistics.mean(r["weights"][layer][stat] for r in runs if layer in r["weights"])
            for stat in ("mean_abs", "std")
        }
        for layer in layers
    }


def typed_overrides(run: dict[str, Any] | None) -> list[str]:
    """The overrides the run's command line set, Hydra's own aside."""
    return [o for o in (run or {}).get("overrides", []) if not o.startswith("hydra.")]


def shared_overrides(runs: list[dict[str, Any]]) -> list[str]:
    """The overrides every run's command line set alike, in the order the first run typed them."""
    typed = [typed_overrides(run) for run in runs]
    return [o for o in (typed[0] if typed else []) if all(o in t for t in typed)]


def fixed_settings(runs: list[dict[str, Any]]) -> str:
    """What every run shared on its command line (seed and folders aside): a figure's caption."""
    shared = [o for o in shared_overrides(runs) if o.partition("=")[0] not in IGNORED_KEYS]
    return "fixed: " + (" ".join(shared) if shared else "the defaults")


def setting_label(values: dict[str, str], keys: list[str]) -> str:
    """A run's setting as the weight and corruption figures name it: the swept keys' values, and
    the model (`activation=tanh backprop_mlp`)."""
    parts = [f"{k}={values.get(k, '(default)')}" for k in keys if k != "model"]
    return " ".join([*parts, values.get("model", "ff_mlp")])


def variants(
    runs: list[dict[str, Any]], per_run: list[dict[str, str]], keys: list[str], weighted: bool = True
) -> dict[str, list[dict]]:
    """The completed runs of each setting the sweep compared (the swept keys' values, and the
    model), seeds pooled: `activation=tanh model=backprop_mlp` -> its runs; with `weighted`, only
    those with weight statistics (logistic regression has no hidden layer to measure)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run, values in zip(runs, per_run, strict=True):
        if run.get("status") != "completed" or (weighted and not run.get("weights")):
            continue
        out[setting_label(values, keys)].append(run)
    return out


Loaded = tuple[list[dict[str, Any]], list[Path]]
