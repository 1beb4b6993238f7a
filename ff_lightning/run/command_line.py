"""Checks on the command line itself, before any config is composed: every `group=option` names an
option (of conf/ or of a folder hydra.searchpath adds), every `key=value` names a setting there
is, each with one line that lists what there is."""

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from omegaconf import OmegaConf

from ff_lightning.declarations import not_an_option
from ff_lightning.errors import UserInputError

# `group=a,b` (a sweep), `group=[a,b]` (several options of one group, merged in order), a sweep
# over such lists (`group=a,[b,c]`) or `group/sub=a` on the command line; sweeps written as
# functions (range(...), choice(...), glob(...)) are left to Hydra
_GROUP_OVERRIDE = re.compile(
    r"^[+~]{0,2}(?P<group>[A-Za-z_][\w/]*)=(?P<value>(?:\[[^()\[\]{}*]*\]|[^()\[\]{}*])*)$"
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


def searchpath_folders(args: Sequence[str]) -> list[Path]:
    """The config folders a command line adds with `hydra.searchpath=[file:///path,...]` (where
    options of one's own live outside conf/); pkg:// entries are left to Hydra."""
    folders = []
    for arg in args:
        key, _, value = arg.lstrip("+").partition("=")
        if key == "hydra.searchpath":
            for entry in value.strip("[]").split(","):
                entry = entry.strip().strip("'\"")
                if entry.startswith("file://"):
                    folders.append(Path(entry.removeprefix("file://")))
    return folders


def check_group_overrides(args: Sequence[str], conf_dir: Path) -> None:
    """Reject `group=option` overrides that name no option, listing the allowed ones (the
    options under conf/ and under any folder hydra.searchpath adds)."""
    groups = group_options(conf_dir)
    for folder in searchpath_folders(args):
        for group, options in group_options(folder).items():
            groups[group] = sorted({*groups.get(group, []), *options})
    for group, values in _group_overrides(args):
        if group == "hparams_search" and values != "null":
            _check_optuna_installed()
        if group not in groups:
            continue
        if group.startswith("hydra/"):
            continue  # Hydra's plugins add options (hydra/launcher=submitit_local) and check them
        allowed = groups[group]
        for value in values.replace("[", ",").replace("]", ",").split(","):
            value = value.strip()
            if value in ("", "null") or value in allowed:
                continue
            raise UserInputError(not_an_option(group, value, allowed))


def _check_optuna_installed() -> None:
    import importlib.util

    if importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None:
        raise UserInputError(
            "hparams_search needs Hydra's Optuna sweeper: pip install -e '.[optuna]' (hydra-optuna-sweeper)"
        )


_KEY_OVERRIDE = re.compile(r"^(?P<key>[A-Za-z_][\w.]*)=")


def check_setting_keys(args: Sequence[str], conf_dir: Path) -> None:
    """Reject `a.b=value` overrides of settings that do not exist, naming the ones that do.

    The config is composed with the chosen group options first (the first of each sweep), since
    they decide which settings exist. `+key=value` (adding a key) and `hydra.*` are left alone.
    """
    from hydra import compose, initialize_config_dir

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
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
        # `in`, not select: paths.output_dir is ${hydra:...}, which resolves only inside a run
        if OmegaConf.is_dict(node) and leaf in node:
            continue
        if OmegaConf.is_list(node) and leaf.isdigit() and int(leaf) < len(node):
            continue
        if OmegaConf.is_dict(node):
            where = f"{parent} has" if parent else "top-level settings are"
            raise UserInputError(
                f"{key} is not a setting; {where}: {', '.join(sorted(str(k) for k in node))} "
                f"(add a new one with +{key}=...)"
            )
        raise UserInputError(f"{key} is not a setting: {parent or key} holds no settings")
