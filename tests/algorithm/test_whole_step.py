import copy
from dataclasses import replace
from functools import partial

import pytest
import torch

from ff_lightning.algorithm.negatives import gumbel_wrong_labels
from ff_lightning.algorithm.step import STATS
from ff_lightning.algorithm.whole_step import AdamState, AdamSteps, whole_step
from ff_lightning.models.ff import FFModule
from tests.agreement import assert_same_training
from tests.models.test_ff import _fit, make_module


class Recording(FFModule):
    """FFModule that keeps each training step's minibatch and the RNG state it started from."""

    def on_train_start(self) -> None:
        self.recorded: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        self.recorded.append((x.clone(), y.clone(), torch.get_rng_state()))
        return super().training_step(batch, batch_idx)


def recording_module(lr: float = 1e-2, fused: bool | None = None, **kwargs) -> Recording:
    plain = make_module(lr=lr, whole_step=False, **kwargs)
    module = Recording.__new__(Recording)
    module.__dict__ = plain.__dict__
    module.optimizer_factory = module.head_optimizer_factory = partial(torch.optim.Adam, lr=lr, fused=fused)
    return module


def replay(module: FFModule, recorded, lr: float, compiled=None) -> torch.Tensor:
    """The recorded minibatches through whole_step, each from its recorded RNG state."""
    layers, head = module.net.layers, module.head
    opts = [AdamState(list(layer.parameters())) for layer in layers]
    head_opt = AdamState(list(head.parameters()))
    stats = torch.zeros(len(layers), len(STATS))
    step = compiled or whole_step
    thetas = torch.tensor(module.thresholds_at(0))
    settings = replace(module.step_settings, in_graph=True)
    for x, y, rng in recorded:
        torch.set_rng_state(rng)
        adam = AdamSteps(opts, head_opt, [torch.tensor(lr)] * (len(opts) + 1))
        out = step(module.net, head, (x, y), thetas, stats, settings, adam)
    return out


# the whole step against the per-layer steps: the paper's step, best_mnist's tricks, and the
# reference's peer normalisation with dropout and several negatives
PATH_SETTINGS = [
    {},
    {"objective": "symba", "goodness_from_layer": 0, "input_dropout": 0.2},
    {"peer_normalisation": 0.03, "dropout": 0.3, "negatives_per_image": 3},
]


@pytest.mark.parametrize("fused", [None, True])
@pytest.mark.parametrize("settings", PATH_SETTINGS)
def test_whole_step_trains_the_weights_of_the_plain_path(fused, settings):
    torch.manual_seed(0)
    ref = recording_module(fused=fused, **settings)
    twin = copy.deepcopy(ref)
    _fit(ref)
    replay(twin, ref.recorded, 1e-2)
    assert len(ref.recorded) == 10
    assert_same_training(list(twin.parameters()), list(ref.parameters()))


def test_the_agreement_bound_catches_the_learning_rate_off_by_a_tenth_of_a_percent():
    torch.manual_seed(0)
    ref = recording_module(**PATH_SETTINGS[1])
    twin = copy.deepcopy(ref)
    _fit(ref)
    replay(twin, ref.recorded, 1e-2 * 1.001)
    with pytest.raises(AssertionError, match="differs by"):
        assert_same_training(list(twin.parameters()), list(ref.parameters()))


def test_gumbel_draws_follow_the_belief_in_the_wrong_labels():
    torch.manual_seed(0)
    n = 20000
    labels = torch.zeros(n, dtype=torch.long)
    logits = torch.tensor([5.0, 2.0, 1.0, 0.0]).expand(n, 4)
    one = gumbel_wrong_labels(labels, logits, 1)
    freq = torch.bincount(one, minlength=4).float() / n
    expected = torch.softmax(torch.tensor([2.0, 1.0, 0.0]), 0)
    assert freq[0] == 0 and torch.allclose(freq[1:], expected, atol=0.01)
    two = gumbel_wrong_labels(labels, logits, 2).view(2, n)
    assert (two[0] != two[1]).all() and (two != 0).all()
    # a head that diverged: every wrong label alike
    uniform = gumbel_wrong_labels(labels[:3000], torch.full((3000, 4), float("nan")), 1)
    assert torch.allclose(
        torch.bincount(uniform, minlength=4)[1:].float() / 3000, torch.full((3,), 1 / 3), atol=0.03
    )


@pytest.mark.parametrize(
    "settings",
    [
        {},
        # best_mnist's tricks: hard negatives, SymBa, every layer, input dropout (the lr decay is data)
        {"negatives": "hard", "objective": "symba", "goodness_from_layer": 0, "input_dropout": 0.2},
        {"negatives": "hard", "negatives_per_image": 3, "objective": "symba"},
    ],
)
def test_whole_step_is_one_graph_for_best_mnists_tricks(settings):
    torch.manual_seed(0)
    module = recording_module(**settings)
    x, y = torch.rand(16, 64), torch.randint(0, 10, (16,))
    x[:, :10] = 0
    compiled = torch.compile(whole_step, fullgraph=True, backend="eager")
    with torch._dynamo.config.patch(trace_autograd_ops=True):
        out = replay(module, [(x, y, torch.get_rng_state())] * 2, 1e-2, compiled)
    assert out.shape == (3,) and out[2] == 0


def _fit_both(epochs: int = 1, **settings) -> tuple:
    """The same module trained through Lightning by the per-layer steps and by the whole step:
    both modules, then both trainers."""
    torch.manual_seed(0)
    layered = make_module(whole_step=False, **settings)
    whole = copy.deepcopy(layered)
    whole.whole_step = True
    trainers = [_fit(layered, epochs), _fit(whole, epochs)]
    assert whole._whole_step is not None and layered._whole_step is None
    return layered, whole, *trainers


@pytest.mark.parametrize(
    "settings",
    [
        {"lr_schedule": "linear_decay", "objective": "symba", "input_dropout": 0.2},
        pytest.param(
            {"peer_normalisation": 0.03, "dropout": 0.3, "negatives_per_image": 3, "init": "reference"},
            marks=pytest.mark.slow,
        ),
        # model=ff_cnn on 8 x 8 images: the label as constant planes
        {"conv": {"kernel_size": 3, "pool": [True, True, False]}, "dropout": 0.2},
    ],
)
def test_training_with_the_whole_step_gives_the_weights_of_the_per_layer_steps(settings):
    layered, whole, t_layered, t_whole = _fit_both(epochs=2, **settings)
    assert_same_training(list(whole.parameters()), list(layered.parameters()))
    # what Lightning counts and checkpoints: the steps, each optimizer's state, the epoch's metrics
    assert t_whole.global_step == t_layered.global_step == 2 * 10 * 4
    for opt_a, opt_b in zip(t_layered.optimizers, t_whole.optimizers, strict=True):
        for p_a, p_b in zip(opt_a.param_groups[0]["params"], opt_b.param_groups[0]["params"], strict=True):
            sa, sb = opt_a.state[p_a], opt_b.state[p_b]
            assert float(sa["step"]) == float(sb["step"]) == 20
            torch.testing.assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"], atol=1e-6, rtol=1e-4)
    ma, mb = layered.epoch_metrics(), whole.epoch_metrics()
    assert ma.keys() == mb.keys()
    for key in ma:
        torch.testing.assert_close(ma[key], mb[key], atol=1e-4, rtol=1e-4)


def test_each_gradient_of_the_whole_step_reaches_one_layer_only():
    """Each gradient the whole step computes is one layer's (or the head's): no layer's loss
    reaches the layer below, and the head's reaches no FF layer."""
    torch.manual_seed(0)
    module = make_module(hidden_dims=(16, 16, 16), negatives="hard", input_dropout=0.2)
    touched: list[str] = []
    for name, p in module.named_parameters():
        p.register_hook(lambda g, name=name: touched.append(name.rsplit(".", 1)[0]))
    replay(module, [(torch.rand(8, 64), torch.randint(0, 10, (8,)), torch.get_rng_state())], 1e-2)
    # each autograd.grad call fills its own parameters' gradients, weight and bias
    layers = [{f"net.layers.{i}.linear"} for i in range(3)] + [{"head"}]
    assert [set(touched[i : i + 2]) for i in range(0, len(touched), 2)] == layers


def test_the_whole_step_falls_back_for_an_optimizer_it_does_not_write_out(caplog):
    module = make_module(whole_step=True)
    module.optimizer_factory = module.head_optimizer_factory = partial(torch.optim.SGD, lr=1e-2)
    _fit(module)
    assert module._whole_step is None
    warning = "model.whole_step: model.optimizer is SGD, not Adam; training with the per-layer steps"
    assert warning in caplog.text
    # by default, no warning: the per-layer steps quietly
    caplog.clear()
    default = make_module()
    default.optimizer_factory = module.optimizer_factory
    _fit(default)
    assert default._whole_step is None and "model.whole_step" not in caplog.text
