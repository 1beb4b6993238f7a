"""One place that builds the run's objects from a composed config: the datamodule, the model
(given only the settings its constructor takes), the logger, the callbacks and the trainer.
Training, evaluation and the tests build through it."""

import inspect
import logging
from dataclasses import fields
from typing import Any

import lightning.pytorch as L
from hydra.errors import InstantiationException
from hydra.utils import get_method, instantiate
from omegaconf import DictConfig, OmegaConf

from ff_lightning.errors import UserInputError

log = logging.getLogger("ff_lightning")


def build(node: DictConfig, **kwargs: Any) -> Any:
    """instantiate(), with a bad setting found by the object reported as the user's error."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, UserInputError):
            raise cause from None
        if isinstance(cause, ValueError):
            raise UserInputError(str(cause)) from None
        raise


def build_model(cfg: DictConfig, datamodule: Any) -> L.LightningModule:
    """The model of cfg.model, sized for the datamodule's inputs and classes.

    Each model gets only what its constructor takes. An experiment sets FF settings
    (model.goodness_from_layer, ...) for every model of a sweep such as
    `model=ff_mlp,backprop_mlp,logreg`; the backprop twin and the linear baseline have no use for
    them, nor for the activation and thresholds (the baseline not for the widths either). A model
    that takes `settings` (FFModule) gets cfg.model as its typed settings object."""
    target = get_method(cfg.model._target_)
    takes = set(inspect.signature(target).parameters)
    context = {
        "input_dim": lambda: datamodule.input_dim,
        "num_classes": lambda: datamodule.num_classes,
        "label_mode": lambda: datamodule.label_mode,
        "label_scale": lambda: datamodule.label_scale,
        "activation": lambda: build(cfg.activation),
        "threshold": lambda: build(cfg.threshold),
        "settings": lambda: settings_object(target, cfg.model),
    }
    if "settings" in takes:
        # called directly: instantiate() would take the settings dataclass, whose _target_ names
        # the model, for a config of its own and build it
        try:
            return target(**{name: make() for name, make in context.items() if name in takes})
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
    settings = OmegaConf.to_container(cfg.model, resolve=True)
    unused = sorted(k for k in settings if not k.startswith("_") and k not in takes)
    if unused:
        log.debug("model %s takes no %s", cfg.model._target_, ", ".join(unused))
    node = OmegaConf.create({k: v for k, v in settings.items() if k.startswith("_") or k in takes})
    return build(node, **{name: make() for name, make in context.items() if name in takes})


def settings_object(target: Any, node: DictConfig) -> Any:
    """cfg.model as the typed settings `target` takes (FFSettings), each of its fields from the
    config (an optimizer as its `_target_` config, which the model makes into its partial class)."""
    schema = inspect.signature(target).parameters["settings"].annotation
    values = OmegaConf.to_container(node, resolve=True)
    names = {f.name for f in fields(schema)}
    return schema(**{k: v for k, v in values.items() if k in names and k != "_target_"})


def build_logger(cfg: DictConfig) -> Any:
    """The run's logger(s), or False for none."""
    return build(cfg.logger) if cfg.get("logger") else False


def checkpoint_callbacks(cfg: DictConfig, has_validation: bool) -> list[L.Callback]:
    callbacks = []
    for node in (cfg.get("callbacks") or {}).values():
        if str(node.get("monitor") or "").startswith("val/") and not has_validation:
            continue  # no validation split: nothing to call "best"
        callbacks.append(instantiate(node))
    return callbacks


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], logger: Any, **overrides: Any) -> L.Trainer:
    return instantiate(cfg.trainer, callbacks=callbacks, logger=logger, **overrides)
