"""Whether W&B can log online, asked of the real wandb in a fresh process each time (wandb keeps
its settings and login in process-wide state, so a pytest worker's earlier runs would leak in)."""

import json
import os
import socket
import subprocess
import sys

from tests.conftest import ROOT, compose_cfg

_PROBE = """
import json
from ff_lightning.errors import UserInputError
from ff_lightning.run.wandb_login import login_problem, resolve_wandb_mode, server_url

try:
    resolve_wandb_mode("online")
    online = None
except UserInputError as exc:
    online = str(exc)
print(json.dumps({"url": server_url(), "problem": login_problem(), "auto": resolve_wandb_mode("auto"),
                  "online": online}))
"""


def probe(tmp_path, **env: str) -> tuple[dict, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    # no key or settings of this machine's user: the test says which ones there are
    base.update(NETRC=str(tmp_path / "netrc"), WANDB_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_key_for_a_server_out_of_reach_means_offline_with_one_line(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    found, stderr = probe(
        tmp_path, WANDB_API_KEY="0123456789abcdef0123456789abcdef01234567", WANDB_BASE_URL=url
    )
    assert found["url"] == url  # WANDB_BASE_URL is the server asked, not W&B's own
    assert found["problem"].startswith("cannot log in (ConnectionRefusedError")
    assert found["auto"] == "offline" and "logging offline instead" in stderr
    assert (
        found["online"].startswith("W&B: online logging was asked for")
        and "WANDB_MODE=offline" in found["online"]
    )


def test_no_key_is_the_quiet_offline_case(tmp_path):
    found, stderr = probe(tmp_path)
    assert found["problem"] == "no API key" and found["auto"] == "offline"
    assert "logging offline instead" not in stderr
    assert found["online"] is not None


def test_logger_many_is_wandb_and_csv_at_once():
    from ff_lightning.run.wandb_login import wandb_settings

    cfg = compose_cfg(["logger=many"])
    assert wandb_settings(cfg.logger) == cfg.logger.wandb
    assert wandb_settings(compose_cfg(["logger=csv"]).logger) is None
    assert wandb_settings(compose_cfg(["logger=wandb"]).logger).job_type == "train"
