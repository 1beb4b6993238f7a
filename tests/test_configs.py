"""Every option of every config group composes with the real conf/ and instantiates."""

import shlex
from types import SimpleNamespace

import lightning.pytorch as L
import pytest
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from ff_lightning.data.tensors import TensorDataModule
from ff_lightning.models.backprop import BPModule
from ff_lightning.models.channelwise import ChannelwiseFFModule
from ff_lightning.models.ff import FFModule
from ff_lightning.run.builders import build_model
from ff_lightning.run.command_line import group_options
from ff_lightning.run.loggers import EpochAxisWandbLogger, as_list
from tests.conftest import CONF_DIR, compose_cfg, script_commands, tiny_overrides

GROUPS = group_options(CONF_DIR)


def test_the_documented_groups_and_options_exist():
    # the options README and the sweep scripts name; a new option needs no change here (the
    # tests below compose, build and train every option there is)
    assert {"relu", "relu_straight_through", "tanh", "sigmoid", "gelu", "silu"} <= set(GROUPS["activation"])
    assert {"constant", "pyramid", "inverted_pyramid", "scheduled"} <= set(GROUPS["threshold"])
    assert {"mnist", "synthetic", "imdb"} <= set(GROUPS["dataset"])
    assert {"ff_mlp", "ff_cnn", "ff_cnn_channelwise", "backprop_mlp", "backprop_cnn", "logreg"} <= set(
        GROUPS["model"]
    )
    assert set(GROUPS["trainer"]) == {"default", "cpu", "gpu", "ddp", "ddp_cpu"}
    assert set(GROUPS["callbacks"]) == {"default", "none"}
    assert GROUPS["hydra/launcher"] == ["packed", "submitit_slurm"]
    assert set(GROUPS["logger"]) == {"wandb", "csv", "many", "none"}
    assert {"paper_mnist", "smoke", "paper_imdb", "imdb_smoke"} <= set(GROUPS["experiment"])


@pytest.mark.parametrize("name", GROUPS["activation"])
def test_activation(name, tmp_path):
    cfg = compose_cfg([f"activation={name}"], tmp_path)
    act = instantiate(cfg.activation)
    assert isinstance(act, torch.nn.Module)
    assert act(torch.randn(3, 4)).shape == (3, 4)


@pytest.mark.parametrize(
    "option",
    [f"activation={a}" for a in GROUPS["activation"]] + [f"threshold={t}" for t in GROUPS["threshold"]],
)
def test_every_activation_and_threshold_schedule_trains_a_step(option, tmp_path):
    from ff_lightning.run.train import train

    # the tiny model's two layers (threshold=custom: one multiplier each)
    extra = ["threshold.multipliers=[0.5,1.0]"] if option == "threshold=custom" else []
    results = train(compose_cfg(tiny_overrides(option, *extra, "+trainer.fast_dev_run=true"), tmp_path))
    assert results["status"] == "debug" and results["test/error_goodness"] is not None


@pytest.mark.parametrize("name", GROUPS["threshold"])
def test_threshold(name, tmp_path):
    cfg = compose_cfg([f"threshold={name}"], tmp_path)
    schedule = instantiate(cfg.threshold)
    ks = schedule(len(cfg.model.hidden_dims), 0)
    assert len(ks) == 4 and all(k > 0 for k in ks)


@pytest.mark.parametrize("name", GROUPS["dataset"])
def test_dataset(name, tmp_path):
    cfg = compose_cfg([f"dataset={name}"], tmp_path)
    dm = instantiate(cfg.dataset)
    assert isinstance(dm, TensorDataModule)
    assert dm.input_dim > dm.num_classes


MNIST_SHAPED = SimpleNamespace(input_dim=784, num_classes=10, label_mode="overwrite", label_scale=None)


@pytest.mark.parametrize("name", GROUPS["model"])
def test_model(name, tmp_path):
    conv = name.endswith(("_cnn", "_channelwise"))
    # conv layers: multiples of the 10 classes (the channel-wise objective's groups), one pool each
    overrides = ["model.hidden_dims=[20,10]"] + (["model.conv.pool=[true,true]"] if conv else [])
    cfg = compose_cfg([f"model={name}", *overrides], tmp_path)
    model = build_model(cfg, MNIST_SHAPED)
    expected = {"ff_mlp": FFModule, "ff_cnn": FFModule, "ff_cnn_channelwise": ChannelwiseFFModule}
    assert isinstance(model, expected.get(name, BPModule))
    # logistic regression keeps no hidden layer whatever widths a sweep sets for every model
    widths = [] if name == "logreg" else [20, 10]
    layer_type = nn.Conv2d if conv else nn.Linear
    assert all(isinstance(layer, layer_type) for layer in model.hidden_layers)
    assert [layer.weight.shape[0] for layer in model.hidden_layers] == widths


def test_the_conv_models_defaults_are_one_architecture(tmp_path):
    # the backprop twin has the FF conv networks' layers (the label-in-image one reads ten more
    # input planes)
    shapes = {}
    for name in ("ff_cnn_channelwise", "ff_cnn", "backprop_cnn"):
        model = build_model(compose_cfg([f"model={name}"], tmp_path / name), MNIST_SHAPED)
        shapes[name] = [tuple(layer.weight.shape) for layer in model.hidden_layers]
    assert shapes["backprop_cnn"] == shapes["ff_cnn_channelwise"]
    assert [s[:1] + s[2:] for s in shapes["ff_cnn"]] == [s[:1] + s[2:] for s in shapes["backprop_cnn"]]


@pytest.mark.parametrize("name", GROUPS["trainer"])
def test_trainer(name, tmp_path):
    cfg = compose_cfg([f"trainer={name}"], tmp_path)
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        pytest.skip(f"trainer={name} needs a CUDA GPU; this machine has none")
    trainer = instantiate(cfg.trainer, logger=False)
    assert isinstance(trainer, L.Trainer)


@pytest.mark.parametrize("name", GROUPS["logger"])
def test_logger(name, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = compose_cfg([f"logger={name}"], tmp_path)
    logger = instantiate(cfg.logger) if cfg.logger else None
    expected = {
        "wandb": [EpochAxisWandbLogger],
        "csv": [CSVLogger],
        "many": [EpochAxisWandbLogger, CSVLogger],
        "none": [],
    }[name]
    assert [type(one) for one in as_list(logger)] == expected


@pytest.mark.parametrize("name", GROUPS["experiment"])
def test_experiment(name, tmp_path):
    cfg = compose_cfg([f"experiment={name}"], tmp_path)
    assert cfg.tags


def test_paper_experiment_is_the_paper_setting(tmp_path):
    cfg = compose_cfg(["experiment=paper_mnist"], tmp_path)
    assert list(cfg.model.hidden_dims) == [2000] * 4
    assert cfg.dataset.val_size == 0 and cfg.dataset.batch_size == 100
    assert cfg.trainer.max_epochs == 60
    assert cfg.model.optimizer._target_ == "torch.optim.Adam"


def _leaves(cfg, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in cfg.items():
        if key == "hydra":  # Hydra's runtime settings, some of them unset outside a real run
            continue
        if hasattr(value, "items"):
            out.update(_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _changed_by(trick: str, tmp_path) -> dict[str, object]:
    """The settings that trick=NAME changes on top of experiment=paper_mnist."""
    base = _leaves(compose_cfg(["experiment=paper_mnist"], tmp_path))
    cfg = _leaves(compose_cfg(["experiment=paper_mnist", f"trick={trick}"], tmp_path))
    # a trick sets known settings and adds none, but for the callback of a group it switches on
    assert set(base) - {"model.head_optimizer"} <= set(cfg)
    added = set(cfg) - set(base)
    assert all(
        key.startswith(("weight_averaging.", "model.optimizer.", "model.head_optimizer.")) for key in added
    )
    return {k: v for k, v in cfg.items() if k not in base or v != base[k]}


TRICKS = {
    "none": {},
    "hard_negatives": {"model.negatives": "hard"},
    "linear_decay": {"model.lr_schedule": "linear_decay"},
    "peer_normalisation": {"model.peer_normalisation": 0.03},
    "symba": {"model.objective": "symba", "model.symba_alpha": 0.02},
    "every_layer": {"model.goodness_from_layer": 0},
    "weight_decay": {"model.optimizer._target_": "torch.optim.AdamW", "model.optimizer.weight_decay": 0.05},
    "dropout": {"model.dropout": 0.3},
    "input_dropout": {"model.input_dropout": 0.2},
    "all_labels": {"model.negatives_per_image": 9},
    "jitter": {"dataset.jitter": 2},
    "ema": {
        "weight_averaging._target_": "lightning.pytorch.callbacks.WeightAveraging",
        "weight_averaging.multi_avg_fn._target_": "torch.optim.swa_utils.get_ema_multi_avg_fn",
        "weight_averaging.multi_avg_fn.decay": 0.9997,
    },
    "straight_through": {"activation._target_": "ff_lightning.algorithm.activations.StraightThroughReLU"},
    "reference_init": {"model.init": "reference"},
    "reference_peer": {"model.peer_normalisation": 0.03, "model.peer_mean_init": 0.5},
    "reference_loss": {"model.threshold_loss_average": "mean"},
    "reference_cooldown": {"model.lr_schedule": "linear_cooldown"},
}


def test_trick_options_are_the_listed_ones():
    assert set(GROUPS["trick"]) == {*TRICKS, "best", "reference", "reference_sgd"}


def test_reference_sgd_is_the_references_optimisers(tmp_path):
    cfg = compose_cfg(["experiment=paper_mnist", "trick=reference_sgd"], tmp_path)
    layers, head = (
        instantiate(node)([torch.nn.Parameter(torch.zeros(1))])
        for node in (cfg.model.optimizer, cfg.model.head_optimizer)
    )
    for opt, lr, decay in ((layers, 1e-3, 3e-4), (head, 1e-2, 3e-3)):
        assert type(opt) is torch.optim.SGD
        group = opt.param_groups[0]
        assert (group["lr"], group["momentum"], group["weight_decay"]) == (lr, 0.9, decay)


def test_trick_reference_is_its_parts_together(tmp_path):
    whole = _leaves(compose_cfg(["experiment=paper_mnist", "trick=reference"], tmp_path))
    parts = ["reference_sgd", "reference_loss", "straight_through", "reference_init", "reference_peer"]
    parts.append("reference_cooldown")
    together = _leaves(compose_cfg(["experiment=paper_mnist", f"trick=[{','.join(parts)}]"], tmp_path))
    assert whole == together
    assert (
        _changed_by("reference", tmp_path).items()
        >= {
            **TRICKS["straight_through"],
            **TRICKS["reference_init"],
            **TRICKS["reference_peer"],
            **TRICKS["reference_loss"],
            **TRICKS["reference_cooldown"],
            "model.optimizer._target_": "torch.optim.SGD",
        }.items()
    )


def test_reference_mnist_is_the_references_setting_with_its_recipe(tmp_path):
    cfg = compose_cfg(["experiment=reference_mnist"], tmp_path)
    assert list(cfg.model.hidden_dims) == [1000, 1000, 1000]
    assert (cfg.dataset.val_size, cfg.dataset.batch_size, cfg.trainer.max_epochs) == (10000, 100, 100)
    assert cfg.model.init == "reference" and cfg.model.optimizer._target_ == "torch.optim.SGD"
    # the label as the reference writes it: a one-hot 1.0
    assert cfg.dataset.label_scale == 1.0


@pytest.mark.parametrize("trick", TRICKS)
def test_each_trick_changes_only_its_own_settings(trick, tmp_path):
    assert _changed_by(trick, tmp_path) == TRICKS[trick]


def test_trick_best_is_best_mnists_five_tricks(tmp_path):
    # (experiment=best_mnist is composed of experiment=paper_mnist and this trick)
    assert _changed_by("best", tmp_path) == {
        **TRICKS["hard_negatives"],
        **TRICKS["linear_decay"],
        **TRICKS["symba"],
        **TRICKS["every_layer"],
        **TRICKS["input_dropout"],
    }


BEST_TRICKS = ("hard_negatives", "linear_decay", "symba", "every_layer", "input_dropout")


def leave_one_out_rows() -> list[str]:
    """The trick= values the leave-one-out script sweeps, in its order, read from its dry run (a
    line per job)."""
    jobs = [
        shlex.split(line) for line in script_commands("multirun_scripts/best_mnist_leave_one_out.sh seed=0")
    ]
    return [next(a for a in job if a.startswith("trick=")).removeprefix("trick=") for job in jobs]


def test_leave_one_out_rows_are_best_mnist_and_each_trick_taken_away(tmp_path):
    rows = leave_one_out_rows()
    assert rows[0] == "best" and len(rows) == 1 + len(BEST_TRICKS)
    paper = _leaves(compose_cfg(["experiment=paper_mnist"], tmp_path))
    best = _leaves(compose_cfg(["experiment=best_mnist"], tmp_path))
    # the same settings as experiment=best_mnist, tagged paper_mnist
    tags = {"tags", "logger.tags"}
    assert {
        k
        for k, v in _leaves(compose_cfg(["experiment=paper_mnist", "trick=best"], tmp_path)).items()
        if v != best[k]
    } == tags
    for left_out, row in zip(BEST_TRICKS, rows[1:], strict=True):
        cfg = _leaves(compose_cfg(["experiment=paper_mnist", f"trick={row}"], tmp_path))
        changed = {k for k in best if cfg[k] != best[k]} - tags
        # symba's alpha is unused (and the paper's) without the SymBa loss
        assert changed - {"model.symba_alpha"} == TRICKS[left_out].keys() - {"model.symba_alpha"}
        assert all(cfg[k] == paper[k] for k in changed)


def test_a_users_setting_wins_over_the_trick(tmp_path):
    cfg = compose_cfg(["experiment=paper_mnist", "trick=symba", "model.symba_alpha=0.08"], tmp_path)
    assert cfg.model.objective == "symba" and cfg.model.symba_alpha == 0.08


def test_paper_imdb_is_the_papers_setting(tmp_path):
    cfg = compose_cfg(["experiment=paper_imdb"], tmp_path)
    assert cfg.dataset._target_.endswith("IMDbDataModule") and cfg.dataset.val_size == 0
    assert cfg.dataset.vectors.dim == 300 and cfg.dataset.vectors.pooling == "mean"
    assert cfg.dataset.vectors.use_unsup and cfg.dataset.vectors.workers == 1
    assert list(cfg.model.hidden_dims) == [2000] * 4 and cfg.trainer.max_epochs == 6


def test_user_overrides_compose(tmp_path):
    cfg = compose_cfg(
        [
            "trainer.max_epochs=7",
            "seed=3",
            "model.hidden_dims=[500,500]",
            "dataset.train_subset=1000",
            "logger=csv",
        ],
        tmp_path,
    )
    assert cfg.trainer.max_epochs == 7 and cfg.seed == 3
    assert list(cfg.model.hidden_dims) == [500, 500]
    assert cfg.dataset.train_subset == 1000
    assert cfg.logger._target_.endswith("CSVLogger")


def test_data_dir_follows_ff_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FF_DATA_DIR", str(tmp_path / "elsewhere"))
    cfg = compose_cfg([], tmp_path)
    assert cfg.dataset.data_dir == str(tmp_path / "elsewhere")
    cfg = compose_cfg(["paths.data_dir=/x/y"], tmp_path)
    assert cfg.dataset.data_dir == "/x/y"


def test_slurm_preset_submits_an_array_with_one_task_per_gpu(tmp_path):
    """The sbatch script submitit writes from conf/hydra/launcher/submitit_slurm.yaml (its own
    script writer, fed the preset as Hydra's launcher feeds it; nothing is submitted)."""
    import signal

    from lightning.pytorch.plugins.environments import SLURMEnvironment
    from omegaconf import OmegaConf
    from submitit.slurm.slurm import SlurmExecutor, _convert_mem, _make_sbatch_string

    cfg = compose_cfg(
        [
            "hydra/launcher=submitit_slurm",
            "trainer=ddp",
            "trainer.devices=4",
            "hydra.launcher.partition=gpu",
            f"hydra.sweep.dir={tmp_path}",
        ],
        tmp_path,
    )
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["_target_"] == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    names = SlurmExecutor._equivalence_dict()
    params = {
        names.get(k, k): v
        for k, v in launcher.items()
        if k not in ("_target_", "submitit_folder", "max_num_timeout")
    }
    params["mem"] = _convert_mem(params["mem"])
    script = _make_sbatch_string(
        "python -u -m submitit.core._submit", launcher["submitit_folder"], map_count=3, **params
    )
    for line in (
        "#SBATCH --array=0-2%3",  # 3 sweep jobs, at most array_parallelism at once
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=60",
        "#SBATCH --signal=USR1@120",
    ):
        assert line in script, script
    # the signal SLURM sends before the time limit is the one Lightning's auto-requeue listens to
    assert SLURMEnvironment().requeue_signal == signal.SIGUSR1


def test_a_list_of_tricks_is_the_tricks_spelled_out(tmp_path):
    listed = _leaves(compose_cfg(["experiment=best_mnist", "trick=[jitter,ema]"], tmp_path))
    spelled = _leaves(
        compose_cfg(
            [
                "experiment=best_mnist",
                "trick=jitter",
                "weight_averaging=ema",
                "weight_averaging.multi_avg_fn.decay=0.9997",
                "model.lr_schedule=constant",
            ],
            tmp_path,
        )
    )
    assert listed == spelled
