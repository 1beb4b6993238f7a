"""ff-lightning: Forward-Forward experiments with Lightning and Hydra."""

import os

from omegaconf import OmegaConf

__version__ = "0.1.0"

# ${pid:} in run-folder names (conf/hydra/default.yaml): two runs started in the same microsecond
# on one machine still get two folders. Cached, so every reading of a config gives one value.
if not OmegaConf.has_resolver("pid"):
    OmegaConf.register_new_resolver("pid", os.getpid, use_cache=True)

# ${size:${model.hidden_dims}} in a search's study name (conf/hparams_search): 4 x 500 -> 500x500x500x500
if not OmegaConf.has_resolver("size"):
    OmegaConf.register_new_resolver("size", lambda dims: "x".join(str(d) for d in dims) if dims else "none")

# conf/model/ff_mlp.yaml extends the typed FF settings (ff_lightning.settings.FFSettings)
from ff_lightning.settings import register_schemas  # noqa: E402

register_schemas()
