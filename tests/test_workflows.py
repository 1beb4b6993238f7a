"""The GitHub Actions workflow that runs the smoke set where users keep their CI."""

import shlex
import subprocess
import sys

import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "smoke.yml"


def test_workflow_follows_githubs_workflow_schema():
    schema = ["--builtin-schema", "vendor.github-workflows"]
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def steps() -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["smoke"]["steps"]


def test_workflow_runs_the_smoke_set_offline_with_cached_mnist():
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["smoke"]
    assert job["env"]["WANDB_MODE"] == "offline" and job["env"]["FF_DATA_DIR"].endswith("/data")
    runs = "\n".join(step.get("run", "") for step in steps())
    assert 'python -m pytest -m "not slow"' in runs and 'pip install -e ".[dev]"' in runs
    # torch comes from the CPU index in the same resolver step as the project's pins
    (install,) = [line for line in runs.splitlines() if "pip install -e" in line]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in install
    assert not any("pip install torch" in line for line in runs.splitlines())
    (cache,) = [s for s in steps() if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == "data/MNIST"  # where torchvision's download puts MNIST


def test_workflows_python_lines_compile_and_name_real_functions():
    for step in steps():
        for line in step.get("run", "").splitlines():
            words = shlex.split(line)
            if words[:2] == ["python", "-c"]:
                code = words[2]
                compile(code, "workflow", "exec")
                assert "load_mnist" in code or "torch.version.cuda" in code
                from ff_lightning.data.mnist import load_mnist  # noqa: F401 - the name it calls
