"""Checks on the user's input that must fail before any training starts, each with one line."""

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ff_lightning.errors import UserInputError

# `group=a,b` (a sweep), `group=[a,b]` (several options of one group, merged in order) or
# `group/sub=a` on the command line; sweeps written as functions (range(...), choice(...),
# glob(...)) are left to Hydra
_GROUP_OVERRIDE = re.compile(
    r"^[+~]{0,2}(?P<group>[A-Za-z_][\w/]*)=(?P<value>\[[^()\[\]{}*]*\]|[^()\[\]{}*]*)$"
)


def group_options(conf_dir: Path) -> dict[str, list[str]]:
    """Every config group under conf_dir and its options, e.g. {'activation': ['gelu', ...]}."""
    groups: dict[str, list[str]] = {}
    for folder in sorted(p for p in conf_dir.rglob("*") if p.is_dir()):
        options = sorted(f.stem for f in folder.glob("*.yaml"))
        if options:
            groups[folder.relative_to(conf_dir).as_posix()] = options
    return groups


def _group_overrides(args: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(group, value) of each `group=value` on a command line; `~group` (a deletion) is skipped."""
    for arg in args:
        match = _GROUP_OVERRIDE.match(arg)
        if match and not arg.startswith("~"):
            yield match["group"], match["value"]


def check_group_overrides(args: Sequence[str], conf_dir: Path) -> None:
    """Reject `group=option` overrides that name no option, listing the allowed ones."""
    groups = group_options(conf_dir)
    for group, values in _group_overrides(args):
        if group not in groups:
            continue
        if group.startswith("hydra/"):
            continue  # Hydra's plugins add options (hydra/launcher=submitit_local) and check them
        allowed = groups[group]
        for value in values.strip("[]").split(","):
            value = value.strip()
            if value in ("", "null") or value in allowed:
                continue
            raise UserInputError(f"{group}={value} is not an option; choose one of: {', '.join(allowed)}")


_KEY_OVERRIDE = re.compile(r"^(?P<key>[A-Za-z_][\w.]*)=")


def check_setting_keys(args: Sequence[str], conf_dir: Path) -> None:
    """Reject `a.b=value` overrides of settings that do not exist, naming the ones that do.

    The config is composed with the chosen group options first (the first of each sweep), since
    they decide which settings exist. `+key=value` (adding a key) and `hydra.*` are left alone.
    """
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    groups = group_options(conf_dir)
    group_args, key_args = [], []
    for arg in args:
        match = _KEY_OVERRIDE.match(arg)
        if not match or match["key"].startswith("hydra."):
            continue
        if match["key"] in groups:
            # the first option of a sweep; a [a,b] list is one choice, kept whole
            value = arg[match.end() :]
            group_args.append(arg if value.startswith("[") else arg.split(",")[0])
        else:
            key_args.append(match["key"])
    if not key_args:
        return
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        cfg = compose("train", overrides=group_args)
    for key in key_args:
        if OmegaConf.select(cfg, key, default=_MISSING) is not _MISSING:
            continue
        parent, _, _ = key.rpartition(".")
        node = OmegaConf.select(cfg, parent) if parent else cfg
        if OmegaConf.is_dict(node):
            where = f"{parent} has" if parent else "top-level settings are"
            raise UserInputError(
                f"{key} is not a setting; {where}: {', '.join(sorted(str(k) for k in node))} "
                f"(add a new one with +{key}=...)"
            )
        raise UserInputError(f"{key} is not a setting: {parent or key} holds no settings")


_MISSING = object()

# torch.set_float32_matmul_precision's values
MATMUL_PRECISIONS = ("highest", "high", "medium")


def _positive(name: str, value: object, *, nullable: bool = False) -> None:
    if nullable and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        allowed = "a positive number or null" if nullable else "a positive number"
        raise UserInputError(f"{name} must be {allowed}, got {value!r}")


def validate_config(cfg: DictConfig, choices: Mapping[str, str] | None = None) -> None:
    """Settings that compose but make no sense; each error names the setting and what it allows.

    `choices` is the option picked in each config group (train.hydra_choices()).
    """
    _check_without(choices or {})
    dims = cfg.model.get("hidden_dims")
    if dims is not None:
        dims = OmegaConf.to_container(dims) if OmegaConf.is_config(dims) else dims
        if not isinstance(dims, list) or not dims:
            raise UserInputError(f"model.hidden_dims must be a non-empty list of widths, got {dims!r}")
        for d in dims:
            if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
                raise UserInputError(f"model.hidden_dims must hold positive integers, got {d!r} in {dims}")
        from_layer = cfg.model.get("goodness_from_layer", 0)
        if not 0 <= from_layer < len(dims):
            raise UserInputError(
                f"model.goodness_from_layer must be between 0 and {len(dims) - 1} "
                f"for {len(dims)} layers, got {from_layer}"
            )
        multipliers = cfg.get("threshold", {}).get("multipliers")
        if multipliers is not None and len(multipliers) != len(dims):
            raise UserInputError(
                f"threshold.multipliers has {len(multipliers)} values but model.hidden_dims has "
                f"{len(dims)} layers; give one multiplier per layer"
            )
    for key in ("optimizer", "head_optimizer"):
        opt = cfg.model.get(key)
        if opt is not None and "lr" in opt:
            _positive(f"model.{key}.lr", opt.lr)
    _positive("dataset.batch_size", cfg.dataset.batch_size)
    _positive("dataset.eval_batch_size", cfg.dataset.eval_batch_size)
    if cfg.dataset.get("train_subset") is not None:
        _positive("dataset.train_subset", cfg.dataset.train_subset)
    # null: MNIST writes each image's brightest pixel value, IMDb appends the bare one-hot pair
    _positive("dataset.label_scale", cfg.dataset.get("label_scale"), nullable=True)
    val_size = cfg.dataset.get("val_size", 0)
    if not isinstance(val_size, int) or val_size < 0:
        raise UserInputError(f"dataset.val_size must be an integer >= 0, got {val_size!r}")
    _positive("trainer.max_epochs", cfg.trainer.max_epochs)
    precision = cfg.get("float32_matmul_precision", "highest")
    if precision not in MATMUL_PRECISIONS:
        raise UserInputError(
            f"float32_matmul_precision={precision} is not an option; "
            f"choose one of: {', '.join(MATMUL_PRECISIONS)}"
        )
    flush = cfg.get("flush_denormal", True)
    if not isinstance(flush, bool):
        raise UserInputError(f"flush_denormal must be true or false, got {flush!r}")
    decay = OmegaConf.select(cfg, "weight_averaging.multi_avg_fn.decay", default=None)
    if decay is not None and (
        isinstance(decay, bool) or not isinstance(decay, int | float) or not 0 <= decay < 1
    ):
        raise UserInputError(f"weight_averaging.multi_avg_fn.decay must be in [0, 1), got {decay!r}")
    # trick=jitter adds dataset.jitter to whichever dataset is chosen; only MNIST's images shift
    target = str(cfg.dataset.get("_target_", ""))
    if cfg.dataset.get("jitter") and not target.endswith(".MNISTDataModule"):
        raise UserInputError(
            f"dataset.jitter (trick=jitter) shifts MNIST images and needs dataset=mnist, got "
            f"{target.rpartition('.')[2] or 'a dataset without _target_'}; drop trick=jitter"
        )
    per_step = cfg.dataset.get("batches_per_step", 1)
    if isinstance(per_step, bool) or not isinstance(per_step, int) or per_step < 1:
        raise UserInputError(f"dataset.batches_per_step must be an integer >= 1, got {per_step!r}")
    if per_step > 1 and "goodness_from_layer" not in cfg.model:
        raise UserInputError(
            f"dataset.batches_per_step={per_step} needs model=ff_mlp (the backprop models take one "
            "minibatch per step); use dataset.batches_per_step=1"
        )


def check_without_overrides(args: Sequence[str]) -> None:
    """Every job of the command line at once: without=X on a job that lacks trick X, or a sweep
    that would stop at such a job after training the ones before it, fails before any training."""
    chosen: dict[str, list[str]] = {}
    for group, value in _group_overrides(args):
        if group in ("experiment", "trick", "without"):
            # a sweep (a,b) gives one job per option; a list ([a,b]) is one job's choice
            chosen[group] = [value] if value.startswith("[") else value.split(",")
    for without in chosen.get("without", ["none"]):
        for experiment in chosen.get("experiment", ["null"]):
            for trick in chosen.get("trick", ["none"]):
                _check_without(
                    {"without": without.strip(), "experiment": experiment.strip(), "trick": trick.strip()}
                )


def _check_without(choices: Mapping[str, str]) -> None:
    # without=X puts the paper's value back; on an experiment that never had trick X it would
    # change nothing, and a leave-one-out row would silently equal its baseline
    without = choices.get("without", "none")
    if without == "none":
        return
    experiment = choices.get("experiment") or "null"
    trick = choices.get("trick") or "none"
    tricks = [t.strip() for t in trick.strip("[]").split(",")]
    if experiment != "best_mnist" and "best" not in tricks:
        raise UserInputError(
            f"without={without} takes one of best_mnist's tricks away and needs "
            f"experiment=best_mnist or trick=best, got experiment={experiment} "
            f"trick={trick}; drop without={without}"
        )
