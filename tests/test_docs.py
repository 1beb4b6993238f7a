"""The commands README and docs/ show run as written: each `python train.py` line composes every
job it would run and passes every check train.py makes before training; each sweep script's
command line does too; each module's CLI answers --help."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import torch

from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import check_jobs
from tests.conftest import CONF_DIR, ROOT, script_commands

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
# a sweep over seeds (seed=0,1,2)
SEEDS = re.compile(r"\bseed=(\d+)(?:,\d+)+")
# placeholders a reader fills in: nothing to compose until they do
# the refusal of a GPU setting on a machine without one (ff_lightning.run.trainer_checks)
NO_GPU = "no CUDA GPU on this machine"
PLACEHOLDER = re.compile(r"\.\.\.|<[a-z_ ]+>|\b[A-Z][A-Z_]*(DIR|RUN|FILE|PATH)\b|CHECKPOINT")


def code_lines(text: str) -> list[str]:
    """The commands of a markdown text's indented code blocks (comments cut off)."""
    lines = []
    # a command continued over several lines with a trailing backslash is one command
    for line in text.replace("\\\n", " ").splitlines():
        if not line.startswith("    ") or line.lstrip().startswith(("#", "$", "|")):
            continue
        command = line.strip().split("  #")[0].strip()
        if command:
            lines.append(command)
    return lines


def section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def quick_start() -> list[str]:
    return code_lines(section(README.read_text(), "Quick start"))


def train_args(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[:2] == ["python", "train.py"], command
    return words[2:]


def check_train_command(command: str, tmp_path: Path) -> int:
    args = train_args(command)
    # the folders a run would write stay inside the test's tmp_path
    where = "hydra.sweep.dir" if "-m" in args else "hydra.run.dir"
    if not any(a.startswith(f"{where}=") for a in args):
        args.append(f"{where}={tmp_path / 'out'}")
    return check_jobs(args, CONF_DIR).count


def test_quick_start_has_the_used_by_sweep_and_the_smoke_run():
    commands = quick_start()
    assert "python train.py experiment=smoke" in commands
    assert "python train.py -m threshold=pyramid activation=relu,tanh,sigmoid" in commands
    assert any(c.startswith("multirun_scripts/") for c in commands)


@pytest.mark.parametrize("command", [c for c in quick_start() if c.startswith("python train.py")])
def test_quick_start_train_commands_compose_and_pass_the_checks(command, tmp_path):
    assert check_train_command(command, tmp_path) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in quick_start() if c.startswith("multirun_scripts/")])
def test_quick_start_sweep_scripts_compose_and_pass_the_checks(command, tmp_path):
    # one seed: the seeds' jobs differ in the seed alone
    for line in script_commands(f"{command} seed=0"):
        assert check_train_command(line, tmp_path) >= 1


@pytest.mark.parametrize("module", ["report", "weights", "evaluate"])
def test_module_commands_answer_help(module, capsys):
    # main() is what `python -m ff_lightning.<module>` runs (its __main__ guard)
    main = importlib.import_module(f"ff_lightning.{module}").main
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m ff_lightning.{module}")


def documented_train_commands() -> list[str]:
    found = []
    for path in [README, *DOCS]:
        for command in code_lines(path.read_text()):
            if command.startswith("python train.py") and not PLACEHOLDER.search(command):
                found.append(command)
    return sorted(set(found))


def test_the_docs_show_train_commands():
    assert len(documented_train_commands()) >= 20


@pytest.mark.slow
def test_every_documented_train_command_composes_and_passes_the_checks(tmp_path):
    failed = []
    for num, command in enumerate(documented_train_commands()):
        try:
            # one seed of a seed sweep: its jobs differ in the seed alone
            check_train_command(SEEDS.sub(r"seed=\1", command), tmp_path / str(num))
        except UserInputError as exc:
            # a GPU command on a machine without one passed every check before the machine's
            if NO_GPU not in str(exc) or torch.cuda.is_available():
                failed.append(f"{command}\n    -> {exc}")
        except Exception as exc:  # noqa: BLE001 - collect them all, then show every one
            failed.append(f"{command}\n    -> {exc}")
    assert not failed, "\n".join(failed)
