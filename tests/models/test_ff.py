from dataclasses import fields
from functools import partial

import lightning.pytorch as L
import pytest
import torch
from torch import nn

import ff_lightning.algorithm.whole_step as whole_step_py
import ff_lightning.models.ff as module_py
from ff_lightning.algorithm.goodness import ff_loss, goodness
from ff_lightning.algorithm.step import LayerStep, layer_step
from ff_lightning.algorithm.thresholds import constant
from ff_lightning.data.synthetic import SyntheticDataModule
from ff_lightning.models.ff import FFModule
from ff_lightning.models.settings import FFSettings
from tests.agreement import assert_same_training


def make_module(hidden_dims=(16, 16, 16), lr=1e-2, cls: type = FFModule, **kwargs) -> FFModule:
    """An FFModule (or a subclass, cls) on the synthetic set's 64 features; FFSettings' fields in
    kwargs go to its settings, the rest (label_mode, ...) to the module."""
    names = {f.name for f in fields(FFSettings)}
    settings = FFSettings(
        hidden_dims=list(hidden_dims),
        optimizer=partial(torch.optim.Adam, lr=lr),
        **{k: v for k, v in kwargs.items() if k in names},
    )
    rest = {k: v for k, v in kwargs.items() if k not in names}
    return cls(settings, input_dim=64, num_classes=10, activation=nn.ReLU(), threshold=constant, **rest)


def fit_one_epoch(module: L.LightningModule, dm: SyntheticDataModule, epochs: int = 1) -> L.Trainer:
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(module, datamodule=dm)
    return trainer


def test_later_layer_loss_sends_no_gradient_to_earlier_layers():
    torch.manual_seed(0)
    module = make_module()
    x = module.with_label(torch.rand(8, 64), torch.randint(0, 10, (8,)))
    acts = module.net.activities(x)
    g = goodness(acts[2])
    ff_loss(g[:4], g[4:], 16.0).backward()
    first, second, third = module.net.layers
    assert first.linear.weight.grad is None and second.linear.weight.grad is None
    assert third.linear.weight.grad is not None and third.linear.weight.grad.abs().sum() > 0


class RecordsBackward:
    """Mixed into a layer-by-layer module: notes, at each backward of a training step, which
    parameters' gradients it changed (by name prefix: net.layers.0, ..., head)."""

    def on_train_start(self) -> None:
        self.touched: list[set[str]] = []

    def manual_backward(self, loss: torch.Tensor, *args, **kwargs) -> None:
        before = {n: None if p.grad is None else p.grad.clone() for n, p in self.named_parameters()}
        super().manual_backward(loss, *args, **kwargs)
        changed = set()
        for name, param in self.named_parameters():
            old = before[name]
            if param.grad is not None and (old is None or not torch.equal(old, param.grad)):
                changed.add(name.rsplit(".", 2)[0] if name.startswith("net.layers.") else name.split(".")[0])
        self.touched.append(changed)


class RecordsEachBackward(RecordsBackward, FFModule):
    pass


@pytest.mark.parametrize(
    "tricks",
    [
        {},
        pytest.param(
            {"negatives": "hard", "objective": "symba", "goodness_from_layer": 0, "input_dropout": 0.2},
            marks=pytest.mark.slow,
        ),
        pytest.param(
            {"peer_normalisation": 0.03, "dropout": 0.3, "negatives_per_image": 3}, marks=pytest.mark.slow
        ),
        # model=ff_cnn on 8 x 8 images (the channel-wise objective: tests/models/test_channelwise.py)
        {"conv": {"kernel_size": 3, "pool": [True, True, False]}},
    ],
)
def test_training_keeps_every_layers_gradient_local(tricks):
    """In the real training step (_train_minibatch), each layer's loss reaches that layer's
    parameters only, never the layer below, and the head's loss only the head (the per-layer
    steps; the whole step: tests/algorithm/test_whole_step.py)."""
    torch.manual_seed(0)
    module = make_module(cls=RecordsEachBackward, whole_step=False, **tricks)
    dm = SyntheticDataModule(num_train=300, num_test=100, input_dim=64, batch_size=100, val_size=0)
    fit_one_epoch(module, dm)
    # 3 steps, each: one backward per layer, then the head's
    expected = [{"net.layers.0"}, {"net.layers.1"}, {"net.layers.2"}, {"head"}]
    assert module.touched == expected * 3


def test_head_loss_sends_no_gradient_into_ff_layers():
    torch.manual_seed(0)
    module = make_module(goodness_from_layer=1)
    x = torch.rand(8, 64)
    with torch.no_grad():
        feats = module.net.head_features(module.with_neutral_label(x), module.goodness_from_layer)
    assert feats.shape == (8, 32)  # layers 1 and 2, 16 units each
    nn.functional.cross_entropy(module.head(feats), torch.randint(0, 10, (8,))).backward()
    assert all(p.grad is None for p in module.net.parameters())
    assert module.head.weight.grad is not None


def test_one_optimizer_per_layer_plus_head():
    module = make_module(hidden_dims=(16, 8))
    opts = module.configure_optimizers()
    assert len(opts) == 3 and all(isinstance(o, torch.optim.Adam) for o in opts)
    layer_params = [{id(p) for p in layer.parameters()} for layer in module.net.layers]
    for opt, params in zip(opts[:2], layer_params, strict=True):
        assert {id(p) for g in opt.param_groups for p in g["params"]} == params
    assert {id(p) for g in opts[2].param_groups for p in g["params"]} == {
        id(p) for p in module.head.parameters()
    }


def test_training_steps_every_optimizer_once_per_batch():
    L.seed_everything(0)
    module = make_module(hidden_dims=(16, 16))
    dm = SyntheticDataModule(num_train=300, num_test=50, val_size=0, batch_size=100)
    before = [p.detach().clone() for p in module.net.parameters()]
    trainer = fit_one_epoch(module, dm)
    for opt in trainer.optimizers:
        steps = {int(s["step"]) for s in opt.state.values()}
        assert steps == {3}  # 300 samples / batch 100
    after = list(module.net.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    metrics = module.epoch_metrics()
    # in %, like the errors
    assert 0.0 <= metrics["train/layer0/threshold_acc"] <= 100.0
    assert metrics["train/layer1/theta"] == 16.0


def test_goodness_prediction_picks_the_label_with_most_goodness():
    torch.manual_seed(0)
    module = make_module(hidden_dims=(16, 16), goodness_from_layer=0)
    x = torch.rand(5, 64)
    pred = module.predict_goodness(x)
    with torch.no_grad():
        scores = torch.stack(
            [
                sum(module.net.goodness_per_layer(module.with_label(x, torch.full((5,), c))))
                for c in range(10)
            ],
            dim=1,
        )
    assert torch.equal(pred, scores.argmax(dim=1))


def _trained_weights(fused: bool) -> list[torch.Tensor]:
    L.seed_everything(0)
    settings = FFSettings(hidden_dims=[48, 48], optimizer=partial(torch.optim.Adam, lr=1e-3, fused=fused))
    module = FFModule(settings, input_dim=64, num_classes=10, activation=nn.ReLU(), threshold=constant)
    fit_one_epoch(module, SyntheticDataModule(num_train=500, num_test=50, val_size=0, batch_size=100))
    return [p.detach().clone() for p in module.parameters()]


def test_fused_adam_gives_the_same_weights_as_the_plain_path():
    fast, plain = _trained_weights(True), _trained_weights(False)
    assert_same_training(fast, plain)
    assert not torch.equal(fast[0], _initial_weight())


def _initial_weight() -> torch.Tensor:
    L.seed_everything(0)
    return make_module(hidden_dims=(48, 48)).net.layers[0].linear.weight.detach().clone()


def test_several_minibatches_per_lightning_step_give_the_same_weights():
    """dataset.batches_per_step groups minibatches; each still gets its own optimizer steps."""
    weights = []
    for per_step in (1, 4):
        L.seed_everything(0)
        module = make_module(hidden_dims=(16, 16))
        # 1000 samples, batch 100: 10 minibatches, so groups of 4, 4 and a ragged 2
        dm = SyntheticDataModule(
            num_train=1000, num_test=50, val_size=0, batch_size=100, batches_per_step=per_step
        )
        trainer = fit_one_epoch(module, dm)
        assert trainer.num_training_batches == (10 if per_step == 1 else 3)
        assert module._steps == 10
        weights.append([p.detach().clone() for p in module.parameters()])
    plain, grouped = weights
    assert_same_training(grouped, plain)


@pytest.mark.slow
@pytest.mark.parametrize("whole_step", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_compiled_steps_give_the_same_weights_as_eager(whole_step):
    """model.compile_step=true (on by default on CUDA) computes what the plain path computes, for
    the per-layer steps and for the whole step compiled whole."""
    weights = []
    for compile_step in (False, True):
        L.seed_everything(0)
        module = make_module(hidden_dims=(16, 16), compile_step=compile_step, whole_step=whole_step)
        dm = SyntheticDataModule(num_train=500, num_test=50, val_size=0, batch_size=100)
        # compiled code draws its random numbers from its own generator unless told to fall back
        # to eager's: the same draws, so the same weights
        with torch._inductor.config.patch(fallback_random=True):
            fit_one_epoch(module, dm)
        assert module._compiled == compile_step
        assert (module._whole_step is not None) == whole_step
        weights.append([p.detach().clone() for p in module.parameters()])
    plain, compiled = weights
    assert_same_training(compiled, plain)


def _fit(module: FFModule, epochs: int = 1) -> L.Trainer:
    torch.manual_seed(0)
    return fit_one_epoch(module, SyntheticDataModule(num_train=1000, val_size=0), epochs)


def _weights(module: FFModule) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.net.parameters()]


def test_lr_schedule_sets_every_optimizers_rate_each_epoch():
    module = make_module(lr=1e-2, lr_schedule="linear_decay")
    _fit(module, epochs=3)
    # the last epoch (index 2 of 3) ran at 2 * (3 - 2) / 3 of the configured rate
    for opt in module.optimizers():
        assert opt.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2 * 2 / 3)
        assert opt.optimizer.param_groups[0]["initial_lr"] == 1e-2


def test_peer_normalisation_tracks_mean_activity_and_changes_training():
    plain, peer = make_module(), make_module(peer_normalisation=0.03)
    torch.manual_seed(0)
    peer.load_state_dict(plain.state_dict())
    _fit(plain), _fit(peer)
    assert all(torch.count_nonzero(layer.running_mean) == 0 for layer in plain.net.layers)
    for layer in peer.net.layers:
        assert torch.count_nonzero(layer.running_mean) > 0 and (layer.running_mean >= 0).all()  # ReLU
    assert any(not torch.equal(a, b) for a, b in zip(_weights(plain), _weights(peer), strict=True))


@pytest.mark.parametrize(
    ("base", "setting"),
    [
        ({}, {"objective": "symba"}),
        ({}, {"objective": "symba_log"}),
        ({}, {"negatives": "hard"}),
        ({"objective": "symba"}, {"dropout": 0.3}),
        ({"objective": "symba"}, {"input_dropout": 0.2}),
        ({"objective": "symba"}, {"negatives_per_image": 9}),
        ({"negatives": "hard"}, {"negatives_per_image": 3}),
    ],
)
def test_each_trick_trains_and_changes_the_result(base, setting):
    plain, tricked = make_module(**base), make_module(**base, **setting)
    tricked.load_state_dict(plain.state_dict())
    _fit(plain)
    _fit(tricked)
    assert not tricked.diverged
    assert any(not torch.equal(a, b) for a, b in zip(_weights(plain), _weights(tricked), strict=True))
    stats = tricked.epoch_metrics()
    # the layers tell the true label from the wrong one: more goodness for positives
    assert stats["train/layer0/goodness_pos"] > stats["train/layer0/goodness_neg"]


def test_settings_their_declaration_does_not_allow_are_rejected_from_python_too():
    for kwargs, fragment in (
        (
            {"objective": "hinge"},
            "model.objective=hinge is not an option; choose one of: threshold, symba, symba_log",
        ),
        ({"negatives": "adversarial"}, "model.negatives=adversarial is not an option"),
        ({"lr_schedule": "step"}, "model.lr_schedule=step is not an option"),
        ({"peer_normalisation": -1.0}, "model.peer_normalisation must be a number >= 0, got -1.0"),
        ({"dropout": 1.0}, r"model.dropout must be a number in \[0, 1\), got 1.0"),
        ({"input_dropout": -0.1}, r"model.input_dropout must be a number in \[0, 1\), got -0.1"),
        ({"negatives_per_image": 0}, "model.negatives_per_image must be a positive integer, got 0"),
        ({"negatives_per_image": 10}, "model.negatives_per_image must be between 1 and 9"),
    ):
        with pytest.raises(ValueError, match=fragment):
            make_module(**kwargs)


def test_dropout_drops_the_same_units_of_an_images_positive_and_negative_row():
    torch.manual_seed(0)
    n, d = 64, 500
    h = torch.rand(n, d).repeat(2, 1) + 0.1  # row n + i: the same input as row i
    out, *_ = layer_step(nn.Identity(), h, torch.tensor(1.0), n, LayerStep(dropout=0.25))
    torch.testing.assert_close(out[:n], out[n:])
    dropped = (out[:n] == 0).float().mean().item()
    assert dropped == pytest.approx(0.25, abs=0.02)
    kept = out[:n] != 0
    torch.testing.assert_close(out[:n][kept], h[:n][kept])  # unscaled: the next layer normalises
    out, *_ = layer_step(nn.Identity(), h, torch.tensor(1.0), n, LayerStep(dropout=0.0))
    torch.testing.assert_close(out, h)


def watch_layer_steps(monkeypatch, record) -> None:
    """Call record(args) with the arguments of every layer step, on either training path."""
    for where in (module_py, whole_step_py):
        monkeypatch.setattr(where, "layer_step", lambda *args: record(args) or layer_step(*args))


BOTH_PATHS = pytest.mark.parametrize("whole_step", [False, True], ids=["per_layer", "whole_step"])


@BOTH_PATHS
def test_dropout_never_touches_the_first_layer_or_evaluation(monkeypatch, whole_step):
    torch.manual_seed(0)
    module = make_module(dropout=0.5, whole_step=whole_step)
    x = module.with_label(torch.rand(8, 64), torch.randint(0, 10, (8,)))
    module.train()
    torch.testing.assert_close(module.net.activities(x)[1], module.net.activities(x)[1])
    calls = []
    watch_layer_steps(monkeypatch, lambda args: calls.append(args[4].dropout))
    _fit(module)
    assert calls[:3] == [0.0, 0.5, 0.5]


@BOTH_PATHS
def test_input_dropout_drops_pixels_of_the_first_layer_only_the_same_in_every_row_of_an_image(
    monkeypatch, whole_step
):
    seen = []
    watch_layer_steps(monkeypatch, seen.append)
    for p in (0.0, 0.4):
        seen.clear()
        torch.manual_seed(0)
        module = make_module(objective="symba", negatives_per_image=2, input_dropout=p, whole_step=whole_step)
        _fit(module)
        _, h, _, n, *_ = seen[0]
        pixels, labels = h[:, 10:].view(3, n, -1), h[:, :10].view(3, n, 10)
        assert torch.equal(pixels[0], pixels[1]) and torch.equal(pixels[0], pixels[2])
        # the synthetic pixels are never 0 by themselves: every 0 was dropped
        assert (pixels[0] == 0).float().mean().item() == pytest.approx(p, abs=0.03)
        # the label is written after the drop: one lit pixel in every row, none lost
        assert torch.equal((labels > 0).sum(dim=2), torch.ones(3, n, dtype=torch.long))
        assert [args[4].dropout for args in seen[:3]] == [0.0, 0.0, 0.0]


@BOTH_PATHS
def test_every_wrong_label_goes_through_each_layer_as_its_own_block_of_rows(monkeypatch, whole_step):
    torch.manual_seed(0)
    module = make_module(objective="symba", negatives_per_image=4, whole_step=whole_step)
    seen = []
    watch_layer_steps(monkeypatch, seen.append)
    _fit(module)
    layer, h, _, n, step, _ = seen[0]
    assert step.negatives_per_image == 4 and h.shape[0] == 5 * n
    # every block holds the same images (the label pixels aside), each with another label
    x = h[:, 10:].view(5, n, -1)
    assert all(torch.equal(x[0], x[j]) for j in range(1, 5))
    labels = h[:, :10].argmax(dim=1).view(5, n)
    assert all(len(set(labels[:, i].tolist())) == 5 for i in range(n))


def test_dropout_with_several_wrong_labels_drops_the_same_units_in_every_row_of_an_image():
    torch.manual_seed(0)
    n, d, k = 32, 200, 3
    h = (torch.rand(n, d) + 0.1).repeat(k + 1, 1)
    out, *_ = layer_step(
        nn.Identity(), h, torch.tensor(1.0), n, LayerStep("symba", 0.1, dropout=0.5, negatives_per_image=k)
    )
    blocks = out.view(k + 1, n, d)
    assert all(torch.equal(blocks[0], blocks[j]) for j in range(1, k + 1))


def test_reference_init_draws_weights_by_fan_out_and_zeros_the_rest():
    torch.manual_seed(0)
    module = make_module(hidden_dims=(1000, 500), init="reference")
    for layer in module.net.layers:
        w = layer.linear.weight
        assert w.mean().abs() < 1e-3
        assert w.std().item() == pytest.approx(w.shape[0] ** -0.5, rel=0.02)  # N(0, 1/sqrt(fan_out))
        assert torch.count_nonzero(layer.linear.bias) == 0
    assert torch.count_nonzero(module.head.weight) == 0 and module.head.bias is None
    assert make_module().head.bias is not None  # the default keeps PyTorch's init and the head's bias


def test_peer_normalisation_starts_from_its_configured_mean_and_is_logged_apart():
    torch.manual_seed(0)
    module = make_module(peer_normalisation=0.03, peer_mean_init=0.5)
    assert all(torch.all(layer.running_mean == 0.5) for layer in module.net.layers)
    fit_one_epoch(module, SyntheticDataModule(val_size=0))
    logs = module.epoch_metrics()
    assert logs["train/layer0/peer_loss"] > 0
    assert logs["train/layer0/loss"] > logs["train/layer0/peer_loss"]
    assert 0.0 <= logs["train/head_accuracy"] <= 100.0
    assert logs["train/head_accuracy"] > 20  # the head learns the synthetic classes in an epoch


@BOTH_PATHS
def test_a_steps_not_finite_flag_stops_the_run_at_the_next_check(whole_step):
    # ff_minibatch's third output: any loss of the step not finite. One step with a layer's
    # weights at infinity trips it; the epoch's check then stops the run as diverged
    torch.manual_seed(0)
    module = make_module(whole_step=whole_step, divergence_check_every=1)
    with torch.no_grad():
        module.net.layers[1].linear.weight.fill_(float("inf"))
    fit_one_epoch(module, SyntheticDataModule(val_size=0))
    assert module.diverged and module.divergence_reason == "the training loss became nan"
    assert bool(module._not_finite)
