"""ff-lightning: Forward-Forward experiments with Lightning and Hydra.

The package: algorithm/ (the FF algorithm, free of Lightning), models/ (the Lightning modules),
data/, run/ (the task and its machinery) and analysis/ (reports, records, dashboards)."""

import importlib
import importlib.abc
import importlib.util
import os
import sys

from omegaconf import OmegaConf

__version__ = "0.1.0"

# ${pid:} in run-folder names (conf/hydra/default.yaml): two runs started in the same microsecond
# on one machine still get two folders. Cached, so every reading of a config gives one value.
if not OmegaConf.has_resolver("pid"):
    OmegaConf.register_new_resolver("pid", os.getpid, use_cache=True)

# ${size:${model.hidden_dims}} in a search's study name (conf/hparams_search): 4 x 500 -> 500x500x500x500
if not OmegaConf.has_resolver("size"):
    OmegaConf.register_new_resolver("size", lambda dims: "x".join(str(d) for d in dims) if dims else "none")

# conf/model/ff_mlp.yaml extends the typed FF settings (ff_lightning.models.settings.FFSettings)
from ff_lightning.models.settings import register_schemas  # noqa: E402

register_schemas()


# where each module lived before the package had subpackages: a checkpoint or a config written
# then names its objects there (`_target_: ff_lightning.module.FFModule`, pickled classes), and
# still loads. Looked up last, only for a name no file answers to.
MOVED = {
    "ff_lightning.goodness": "ff_lightning.algorithm.goodness",
    "ff_lightning.thresholds": "ff_lightning.algorithm.thresholds",
    "ff_lightning.labels": "ff_lightning.algorithm.labels",
    "ff_lightning.negatives": "ff_lightning.algorithm.negatives",
    "ff_lightning.nets": "ff_lightning.algorithm.nets",
    "ff_lightning.step": "ff_lightning.algorithm.step",
    "ff_lightning.ff_step": "ff_lightning.algorithm.ff_step",
    "ff_lightning.whole_step": "ff_lightning.algorithm.whole_step",
    "ff_lightning.activations": "ff_lightning.algorithm.activations",
    "ff_lightning.lr_schedules": "ff_lightning.algorithm.lr_schedules",
    "ff_lightning.divergence": "ff_lightning.algorithm.divergence",
    "ff_lightning.layerwise": "ff_lightning.models.layerwise",
    "ff_lightning.module": "ff_lightning.models.ff",
    "ff_lightning.channelwise": "ff_lightning.models.channelwise",
    "ff_lightning.backprop": "ff_lightning.models.backprop",
    "ff_lightning.settings": "ff_lightning.models.settings",
    "ff_lightning.train": "ff_lightning.run.train",
    "ff_lightning.jobs": "ff_lightning.run.jobs",
    "ff_lightning.validate": "ff_lightning.run.validate",
    "ff_lightning.builders": "ff_lightning.run.builders",
    "ff_lightning.callbacks": "ff_lightning.run.callbacks",
    "ff_lightning.checkpoints": "ff_lightning.run.checkpoints",
    "ff_lightning.console": "ff_lightning.run.console",
    "ff_lightning.loggers": "ff_lightning.run.loggers",
    "ff_lightning.wandb_login": "ff_lightning.run.wandb_login",
    "ff_lightning.interrupts": "ff_lightning.run.interrupts",
    "ff_lightning.run_folder": "ff_lightning.run.run_folder",
    "ff_lightning.trainer_checks": "ff_lightning.run.trainer_checks",
    "ff_lightning.footprint": "ff_lightning.run.footprint",
    "ff_lightning.distributed": "ff_lightning.models.distributed",
    "ff_lightning.ddp_jobs": "ff_lightning.run.ddp_jobs",
    "ff_lightning.results": "ff_lightning.run.results",
    "ff_lightning.evaluate": "ff_lightning.run.evaluate",
    "ff_lightning.weights": "ff_lightning.run.weights",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec: object) -> object:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: object) -> None:
        pass


def moved_target(target: str) -> str:
    """A dotted name with its module where it lives now (ff_lightning.module.FFModule ->
    ff_lightning.models.ff.FFModule); other names as they are."""
    module, _, name = target.rpartition(".")
    return f"{MOVED[module]}.{name}" if module in MOVED else target


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
