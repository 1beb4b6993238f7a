"""What a run prints on a terminal: `python train.py` in a real pseudo-terminal 80 columns wide."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from tests.conftest import ROOT, TINY_MODEL, data_dir

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_terminal(args: list[str], columns: int = 80) -> str:
    """train.py with stdout and stderr on a pseudo-terminal of `columns` columns; what it showed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "FF_DATA_DIR": str(data_dir()), "WANDB_MODE": "offline", "COLUMNS": str(columns)}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), *args], cwd=ROOT, env=env, stdout=follower, stderr=follower
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=300) == 0, shown.decode(errors="replace")[-3000:]
    return ANSI.sub("", shown.decode(errors="replace"))


@pytest.mark.slow
def test_the_progress_bar_counts_epochs_as_the_log_lines_and_fits_80_columns(tmp_path):
    args = [*TINY_MODEL, "trainer.max_epochs=2", "trainer.enable_progress_bar=null", "logger=none"]
    shown = run_in_terminal([*args, f"hydra.run.dir={tmp_path}"])
    # each refresh of a bar starts at a carriage return
    pieces = [p for line in shown.split("\n") for p in line.split("\r") if p.strip()]
    bars = [p for p in pieces if "|" in p and p.lstrip().startswith("epoch ")]
    assert bars, shown[-3000:]
    assert {b.split(":")[0].strip() for b in bars} == {"epoch 1/2", "epoch 2/2"}
    assert not any("Epoch 0" in p for p in pieces)
    # the loss and the validation errors, nothing that would push a refresh past the edge
    assert any("loss=" in b and "val%=" in b for b in bars), bars
    assert max(len(b.rstrip()) for b in bars) <= 80, max(bars, key=len)
    assert "epoch 1/2 | train/loss" in shown  # the epoch's log line, beside the bar
