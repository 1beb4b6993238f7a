"""Checks on the user's input that must fail before any training starts, each with one line."""

import re
from dataclasses import fields

from omegaconf import DictConfig, OmegaConf

from ff_lightning.data.settings import VectorSettings, dataset_settings
from ff_lightning.declarations import (
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    Number,
    declared,
    declared_lists,
    declared_parameters,
    not_an_option,
)
from ff_lightning.errors import UserInputError
from ff_lightning.models.settings import (
    ChannelwiseSettings,
    ConvFFSettings,
    ConvSettings,
    FFSettings,
    check_channel_groups,
    check_conv,
    check_layer_epochs,
    check_negatives_per_image,
)

_MISSING = object()

# torch.set_float32_matmul_precision's values
MATMUL_PRECISIONS = ("highest", "high", "medium")
WANDB_MODES = ("auto", "online", "offline", "disabled")

# Every setting that takes one of a few words, by where it lives in the composed config
CHOICES: dict[str, tuple[str, ...]] = {
    "float32_matmul_precision": MATMUL_PRECISIONS,
    "logger.mode": WANDB_MODES,
    "logger.wandb.mode": WANDB_MODES,  # logger=many
}
# the FF model's, declared with their types in ff_lightning.models.settings. They are checked for every
# model: an experiment sets them for a whole sweep such as model=ff_mlp,backprop_mlp
_FF_WORDS, _FF_NUMBERS = declared("model", FFSettings)
_CW_WORDS, _CW_NUMBERS = declared("model", ChannelwiseSettings)
_CONV_WORDS, _CONV_NUMBERS = declared("model.conv", ConvSettings)
# IMDb's review vectors, declared with the datasets in ff_lightning.data.settings
_VECTOR_WORDS, _VECTOR_NUMBERS = declared("dataset.vectors", VectorSettings)
CHOICES |= _FF_WORDS | _CW_WORDS | _CONV_WORDS | _VECTOR_WORDS


# Every number a user can type that no part declares (Lightning's, torch's optimizers'), by where
# it lives in the composed config; a key that the chosen options do not have (a backprop model has
# no threshold) is skipped. Lightning's seed_everything takes seeds in [0, 2^32 - 1].
NUMBERS: dict[str, Number] = {
    "seed": Number(integer=True, low=0, high=2**32 - 1),
    "trainer.max_epochs": POSITIVE_INT,
    "trainer.check_val_every_n_epoch": POSITIVE_INT,
    "trainer.log_every_n_steps": POSITIVE_INT,
    "model.optimizer.lr": POSITIVE,
    "model.optimizer.weight_decay": NON_NEGATIVE,
    "model.optimizer.momentum": FRACTION,
    "model.optimizer.eps": POSITIVE,
    "model.head_optimizer.lr": POSITIVE,
    "model.head_optimizer.weight_decay": NON_NEGATIVE,
    "model.head_optimizer.momentum": FRACTION,
    "weight_averaging.multi_avg_fn.decay": FRACTION,
}
NUMBERS |= _FF_NUMBERS | _CW_NUMBERS | _CONV_NUMBERS | _VECTOR_NUMBERS
# settings that hold a list of numbers, each checked alone
NUMBER_LISTS: dict[str, Number] = {
    "model.hidden_dims": POSITIVE_INT,
} | declared_lists("model", ChannelwiseSettings)


def part_declarations(cfg: DictConfig) -> tuple[dict, dict, dict]:
    """What the chosen dataset and threshold schedule declare about their settings, next to their
    code (ff_lightning/data/settings.py; ff_lightning/algorithm/thresholds.py: each parameter's
    annotation), keyed like CHOICES and NUMBERS."""
    words, numbers = declared("dataset", chosen_dataset(cfg))
    target = OmegaConf.select(cfg, "threshold._target_", default=None)
    if not target:
        return words, numbers, {}
    from hydra.utils import get_method

    try:
        schedule = get_method(str(target))
    except Exception:  # noqa: BLE001 - Hydra names a target that cannot be imported when it builds it
        return words, numbers, {}
    schedule_words, schedule_numbers, lists = declared_parameters("threshold", schedule)
    return words | schedule_words, numbers | schedule_numbers, lists


def chosen_dataset(cfg: DictConfig) -> type:
    """The declaration (ff_lightning.data.settings) of the dataset the config chose."""
    return dataset_settings(str(OmegaConf.select(cfg, "dataset._target_", default="") or ""))


def check_settings(cfg: DictConfig) -> None:
    """Every setting in CHOICES, NUMBERS and NUMBER_LISTS that the config has, and every setting
    the chosen parts declare (part_declarations): its word among the allowed ones, its number's
    type, finiteness and range."""
    words, numbers, lists = part_declarations(cfg)
    choices, number_specs, list_specs = CHOICES | words, NUMBERS | numbers, NUMBER_LISTS | lists
    for key, allowed in choices.items():
        value = OmegaConf.select(cfg, key, default=_MISSING)
        if value is not _MISSING and value not in allowed:
            raise UserInputError(not_an_option(key, value, allowed))
    for key, spec in number_specs.items():
        value = OmegaConf.select(cfg, key, default=_MISSING)
        if value is not _MISSING and not spec.allows(value):
            raise UserInputError(spec.refusal(key, value))
    for key, spec in list_specs.items():
        values = OmegaConf.select(cfg, key, default=None)
        if values is None:
            continue
        values = OmegaConf.to_container(values) if OmegaConf.is_config(values) else values
        if not isinstance(values, list) or not values:
            raise UserInputError(f"{key} must be a non-empty list, got {values!r}")
        for v in values:
            if not spec.allows(v):
                raise UserInputError(f"every value in {key} must be {spec.describe()}, got {v!r} in {values}")


# the validation metrics train() returns to a sweeper; goodness inference is FF's alone
SEARCHABLE = ("val/error_goodness", "val/error_head")


def check_search(cfg: DictConfig, sweeper_target: str) -> None:
    """A hyper-parameter search (hparams_search: the Optuna sweeper) chooses settings on the
    validation split: it may never optimise a test metric, needs a validation split, a metric the
    model reports, and a validation pass within max_epochs (else every trial returns nothing)."""
    if "optuna" not in sweeper_target.lower():
        return
    metric = str(cfg.get("optimized_metric") or "")
    if not metric.startswith("val/"):
        raise UserInputError(
            f"optimized_metric={metric} cannot be searched: a search optimises a validation metric "
            "(val/error_goodness or val/error_head), never the test set's"
        )
    # FFModule and ChannelwiseFFModule infer by goodness; the backprop twins and logistic
    # regression have the head alone (an experiment's goodness_from_layer passes them by)
    has_goodness = str(cfg.model.get("_target_", "")).endswith("FFModule")
    reported = SEARCHABLE if has_goodness else ("val/error_head",)
    if metric not in reported:
        raise UserInputError(
            f"optimized_metric={metric} is not a metric this run reports; "
            f"choose one of: {', '.join(reported)}"
        )
    if not cfg.dataset.get("val_size"):
        raise UserInputError("a search needs a validation split: dataset.val_size must be above 0")
    every, epochs = cfg.trainer.get("check_val_every_n_epoch", 1), cfg.trainer.get("max_epochs")
    if isinstance(every, int) and isinstance(epochs, int) and every > epochs:
        raise UserInputError(
            f"trainer.check_val_every_n_epoch={every} > trainer.max_epochs={epochs}: a trial would never "
            "validate, so the search would have nothing to compare; validate at least once"
        )


def check_model_keys(cfg: DictConfig) -> None:
    """Every key under model is a setting: a field of an FF model's schema (an experiment may set
    these for every model of a sweep, and the others pass them by) or an argument the chosen
    model takes. `+model.<typo>=...` is refused like any unknown key."""
    known = {"_target_", "_partial_"} | {
        f.name for schema in (FFSettings, ConvFFSettings, ChannelwiseSettings) for f in fields(schema)
    }
    unknown = sorted(str(k) for k in cfg.model if str(k) not in known)
    if not unknown:
        return
    import inspect

    from hydra.utils import get_method

    takes = set(inspect.signature(get_method(cfg.model._target_)).parameters)
    for key in unknown:
        if key not in takes:
            raise UserInputError(
                f"model.{key} is not a setting; model settings are: {', '.join(sorted(known | takes))}"
            )


def check_logger_arguments(cfg: DictConfig) -> None:
    """logger=wandb (alone, or logger.wandb of logger=many) passes its keys to WandbLogger and
    wandb.init: one that neither takes is refused here rather than as a TypeError mid-start."""
    from ff_lightning.run.loggers import check_wandb_arguments

    logger = cfg.get("logger")
    if not logger:
        return
    for where, node in (("logger", logger), ("logger.wandb", logger.get("wandb"))):
        if isinstance(node, DictConfig) and str(node.get("_target_", "")).endswith(".wandb_logger"):
            check_wandb_arguments(node, where)


def _sweeper_target() -> str:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ""
    return str(OmegaConf.select(HydraConfig.get(), "sweeper._target_", default="") or "")


def dataset_classes(cfg: DictConfig) -> int:
    """How many classes the chosen dataset has, as its yaml declares (dataset.num_classes:
    MNIST's 10, IMDb's 2, the synthetic set's own); 10 for a dataset that declares none."""
    return int(cfg.dataset.get("num_classes") or 10)


def validate_config(cfg: DictConfig) -> None:
    """Settings that compose but make no sense; each error names the setting and what it allows."""
    check_settings(cfg)
    check_model_keys(cfg)
    check_search(cfg, _sweeper_target())
    check_logger_arguments(cfg)
    dims = cfg.model.get("hidden_dims")
    if dims is not None:
        from_layer = cfg.model.get("goodness_from_layer", 0)
        if not 0 <= from_layer < len(dims):
            raise UserInputError(
                f"model.goodness_from_layer must be between 0 and {len(dims) - 1} "
                f"for {len(dims)} layers, got {from_layer}"
            )
        multipliers = cfg.get("threshold", {}).get("multipliers")
        if multipliers is not None and len(multipliers) != len(dims):
            raise UserInputError(
                f"threshold.multipliers has {len(multipliers)} values but model.hidden_dims has "
                f"{len(dims)} layers; give one multiplier per layer"
            )
        try:
            check_layer_epochs(cfg.model.get("layer_epochs"), len(dims))
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
    for key in ("flush_denormal", "overwrite", "test"):
        flag = cfg.get(key, True)
        if not isinstance(flag, bool):
            raise UserInputError(f"{key} must be true or false, got {flag!r}")
    # trick=jitter adds dataset.jitter to whichever dataset is chosen; only MNIST's images shift
    target, dataset = str(cfg.dataset.get("_target_", "")), chosen_dataset(cfg)
    if cfg.dataset.get("jitter") and "jitter" not in {f.name for f in fields(dataset)}:
        raise UserInputError(
            f"dataset.jitter (trick=jitter) shifts MNIST images and needs dataset=mnist, got "
            f"{target.rpartition('.')[2] or 'a dataset without _target_'}; drop trick=jitter"
        )
    per_image = cfg.model.get("negatives_per_image")
    if per_image is not None:
        try:
            check_negatives_per_image(per_image, dataset_classes(cfg))
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
    conv = cfg.model.get("conv")
    if conv is not None and dims is not None:
        try:
            check_conv(OmegaConf.to_container(conv), list(dims), dataset_classes(cfg))
            if str(cfg.model.get("_target_", "")).endswith(".ChannelwiseFFModule"):
                check_channel_groups(list(dims), dataset_classes(cfg))
                processes = cfg.trainer.get("devices", 1) * cfg.trainer.get("num_nodes", 1)
                if isinstance(processes, int) and processes > 1:
                    # it averages no gradients across processes (FFModule does)
                    raise ValueError(
                        f"model=ff_cnn_channelwise trains in one process, got trainer.devices x "
                        f"trainer.num_nodes = {processes}; use trainer=default or trainer=cpu"
                    )
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
        if dataset.images is False:
            raise UserInputError(
                f"a conv model (model.conv) reads images: use dataset=mnist, not "
                f"{target.rpartition('.')[2] or 'a dataset without _target_'}"
            )
    per_step = cfg.dataset.get("batches_per_step", 1)
    if per_step > 1 and "goodness_from_layer" not in cfg.model:
        raise UserInputError(
            f"dataset.batches_per_step={per_step} needs model=ff_mlp (the backprop models take one "
            "minibatch per step); use dataset.batches_per_step=1"
        )


def composition_error(exc: BaseException) -> str:
    """One line for a config that did not compose. A value of the wrong type for a typed setting
    (ff_lightning.models.settings) names the setting and what it allows."""
    from omegaconf.errors import ValidationError

    cause = exc.__cause__ if isinstance(exc.__cause__, ValidationError) else exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(cause, ValidationError) or not getattr(cause, "full_key", None):
        return first
    key, value = str(cause.full_key), cause.value
    listed = re.sub(r"\[\d+\]$", "", key)
    if key in NUMBERS:
        return NUMBERS[key].refusal(key, value)
    if listed in NUMBER_LISTS:
        return f"every value in {listed} must be {NUMBER_LISTS[listed].describe()}, got {value!r}"
    return f"{key}: {str(cause).strip().splitlines()[0]}"
