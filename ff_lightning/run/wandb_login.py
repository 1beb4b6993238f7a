"""Whether W&B can log online, asked before anything trains: light enough (no Lightning) for the
checks train.py makes on every job of a command line."""

import functools
import logging
import os
import socket
from typing import Any
from urllib.parse import urlparse

from ff_lightning.errors import UserInputError
from ff_lightning.run.validate import WANDB_MODES

log = logging.getLogger(__name__)

NO_KEY = "no API key"


def resolve_wandb_mode(mode: str = "auto") -> str:
    """`auto` means online when a W&B API key works, else offline with a line that says why;
    `online` (asked for here or by WANDB_MODE, which wins) needs a working login."""
    if mode not in WANDB_MODES:
        raise ValueError(f"logger.mode must be one of {', '.join(WANDB_MODES)}, got {mode!r}")
    env_mode = os.environ.get("WANDB_MODE")
    if env_mode in ("online", "offline", "disabled", "dryrun"):
        mode = "offline" if env_mode == "dryrun" else env_mode
    if mode in ("offline", "disabled"):
        return mode
    if mode == "online":
        check_online_login()
        return "online"
    problem = login_problem()
    if problem is None:
        return "online"
    # auto without a key is the ordinary offline case; anything else is worth a line
    if problem != NO_KEY:
        _warn_offline(problem)
    return "offline"


@functools.cache
def _warn_offline(problem: str) -> None:
    """Once a process: every job of a sweep goes offline for the same reason."""
    log.warning("W&B: %s; logging offline instead (upload later with `wandb sync`)", problem)


def check_online_login() -> None:
    """Online logging was asked for: a login that cannot work stops the run with one line."""
    problem = login_problem()
    if problem is not None:
        raise UserInputError(
            f"W&B: online logging was asked for (WANDB_MODE or logger.mode) but {problem}; "
            "run `wandb login`, or use WANDB_MODE=offline (or unset it: without a login runs go offline)"
        )


@functools.cache
def login_problem(timeout: int = 5) -> str | None:
    """Why an online W&B run cannot start (no or bad API key, server unreachable), else None.

    Asked once, with a short timeout, so that a bad key or a machine without network gives an
    offline run at once instead of a crash or a long wait inside wandb.init."""
    import wandb

    try:
        if not _has_key():
            return NO_KEY
        # a server out of reach fails here in a moment; wandb's own check would first wait for
        # its service process and retry (6 s more on a machine without network)
        url = urlparse(server_url())
        port = url.port or (443 if url.scheme == "https" else 80)
        socket.create_connection((url.hostname, port), timeout=timeout).close()
        # the key is only checked by a request to the server
        wandb.Api(timeout=timeout).viewer  # noqa: B018
        return None
    except Exception as exc:  # noqa: BLE001 - every failure means the same here: go offline
        return f"cannot log in ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"


def _has_key() -> bool:
    """Whether W&B finds an API key (environment, settings file, .netrc), without a network call.

    Silently: wandb.login's "logged in as" line asks the server for the user name, which waits
    5 s on a machine without network; wandb.init prints that line anyway."""
    import wandb

    try:
        from wandb.sdk.wandb_login import _login

        found, _ = _login(prompt=False, verify=False, update_api_key=False, _silent=True)
        return bool(found)
    except (ImportError, TypeError):  # a wandb without this helper
        return bool(wandb.login(prompt=False, verify=False))


def server_url() -> str:
    """The W&B server this machine logs in to: WANDB_BASE_URL, else the host `wandb login --host`
    stored, else W&B's own (a bare Settings() reads neither)."""
    import wandb

    settings = wandb.Settings()
    try:
        settings.update_from_system_settings()
        settings.update_from_env_vars(dict(os.environ))
    except AttributeError:  # an older wandb without these: the environment variable alone
        return os.environ.get("WANDB_BASE_URL") or str(settings.base_url)
    return str(settings.base_url)


def wandb_settings(logger_cfg: Any) -> Any:
    """The W&B logger's settings in a composed config (logger=wandb, or logger=many's
    logger.wandb), else None."""
    if not logger_cfg:
        return None
    for node in (logger_cfg, logger_cfg.get("wandb")):
        if node is not None and str(node.get("_target_", "")).endswith("wandb_logger"):
            return node
    return None
