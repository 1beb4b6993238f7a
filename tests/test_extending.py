"""docs/extending.md's worked examples, carried out as written: each example's files go into a
temporary folder (its conf/ files on Hydra's search path, its Python package on PYTHONPATH), and
its command trains the new option for an epoch through train.py, on the synthetic set where the
example does not bring a dataset of its own."""

import json
import os
import re
import shlex
from pathlib import Path

import pytest
import torch

from tests.conftest import ROOT, TINY_MODEL, run_train

DOC = ROOT / "docs" / "extending.md"
FILE = re.compile(r"\*\*`(?P<path>[^`]+)`\*\*\n\n```\w+\n(?P<body>.*?)```", re.S)
COMMAND = re.compile(r"```bash\n(python train\.py [^\n]*)\n```")


def examples() -> dict[str, tuple[dict[str, str], list[str]]]:
    """Each `## ` section's files (path -> text) and its command's overrides."""
    found = {}
    for section in DOC.read_text().split("\n## ")[1:]:
        title = section.splitlines()[0]
        files = {m["path"]: m["body"] for m in FILE.finditer(section)}
        (command,) = COMMAND.findall(section)
        found[title] = files, shlex.split(command)[2:]
    return found


EXAMPLES = examples()


def carry_out(title: str, tmp_path: Path, *more: str):
    """Write the example's files under tmp_path and run its command there, small."""
    files, overrides = EXAMPLES[title]
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    if any(p.endswith(".py") for p in files):
        (tmp_path / Path(next(p for p in files if p.endswith(".py"))).parent / "__init__.py").touch()
    set_here = {o.partition("=")[0] for o in overrides}
    small = [
        o for o in [*TINY_MODEL, "trainer.max_epochs=1", "logger=none"] if o.partition("=")[0] not in set_here
    ]
    run = tmp_path / "run"
    args = [
        *overrides,
        *more,
        *small,
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        f"hydra.run.dir={run}",
    ]
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    return run_train(args, env=env), run


def test_the_page_has_its_four_examples_each_with_its_files_and_command():
    assert list(EXAMPLES) == ["An activation", "A threshold schedule", "A dataset", "An FF variant"]
    assert all(files and overrides for files, overrides in EXAMPLES.values())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("title", "choice"),
    [
        ("An activation", ("activation", "mish")),
        ("A threshold schedule", ("threshold", "rising")),
        ("A dataset", ("dataset", "stripes")),
        ("An FF variant", ("model", "ff_depth_halved")),
    ],
)
def test_each_example_trains_as_written(title, choice, tmp_path):
    proc, run = carry_out(title, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    group, option = choice
    assert results["status"] == "completed" and results["choices"][group] == option
    if title == "A threshold schedule":
        # the schedule's settings as the command set them: theta = (0.5 + 0.1 * epoch) * units
        assert results["thresholds"] == [pytest.approx(0.5 * 32)] * 2
    if title == "A dataset":
        # 4 classes of the new set (chance: about 75 % error), and after one epoch it learns them
        assert results["chance_error"] > 60 and results["test/error_head"] < results["chance_error"] - 10
    if title == "An FF variant":
        # each layer's rate halved with depth, the head's as configured
        saved = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
        rates = [state["param_groups"][0]["lr"] for state in saved["optimizer_states"]]
        assert rates == pytest.approx([1e-3, 5e-4, 1e-3])


@pytest.mark.slow
def test_a_new_schedules_declaration_refuses_a_bad_value_in_one_line(tmp_path):
    proc, run = carry_out("A threshold schedule", tmp_path, "threshold.step=-1")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == "train.py: error: threshold.step must be a number >= 0, got -1"
    )
    assert not run.exists()
