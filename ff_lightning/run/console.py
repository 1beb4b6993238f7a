"""What a run prints: one line per message (Lightning's through Hydra's handlers, so that they
reach train.log too), no tips or known-harmless warnings, and a progress bar only on a terminal."""

import logging
import sys
import warnings

# Lightning's loggers: each has a handler of its own (added when Lightning is imported before
# Hydra sets up logging), which printed its messages a second time beside Hydra's
LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")
# messages that say nothing about this run
NOISE = (
    "💡 Tip:",  # an advertisement for another logger
)
WARNINGS = (
    # the suite logs once an epoch; Lightning's step-logging interval does not apply
    r"The number of training batches .* is smaller than the logging interval",
    # raised inside Lightning by newer torch versions; nothing to act on here
    r".*isinstance\(treespec, LeafSpec\)",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(NOISE)


def route_lightning_logs() -> None:
    """Lightning's messages go through the root logger (Hydra's console and train.log) once."""
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _DropNoise) for f in rank_zero.filters):
        rank_zero.addFilter(_DropNoise())
    for pattern in WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


def progress_bar_wanted(setting: bool | None) -> bool:
    """null (the default): a bar on a terminal; in a log file one line per epoch instead (the
    epoch summary), since a bar's every refresh would be a line there."""
    return sys.stderr.isatty() if setting is None else bool(setting)


# config-group options that exist for other options to build on, never to be chosen: the typed
# schemas that conf/model/*.yaml extend, and the base the debug presets share
BASE_OPTIONS = {"model": ("_schema",), "debug": ("default",)}


def choosable_help(text: str) -> str:
    """Hydra's `--help` text with the base options left out of its config-group lines."""
    lines = []
    for line in text.splitlines():
        group, sep, options = line.partition(": ")
        if sep and group in BASE_OPTIONS and options:
            kept = [o for o in options.split(", ") if not o.endswith(BASE_OPTIONS[group])]
            line = f"{group}: {', '.join(kept)}"
        lines.append(line)
    return "\n".join(lines)
