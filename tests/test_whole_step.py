import copy
from functools import partial

import pytest
import torch

from ff_lightning.module import FFModule
from ff_lightning.whole_step import AdamState, gumbel_wrong_labels, whole_step
from tests.test_module import _fit, make_module


class Recording(FFModule):
    """FFModule that keeps each training step's minibatch and the RNG state it started from."""

    def on_train_start(self) -> None:
        self.recorded: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        self.recorded.append((x.clone(), y.clone(), torch.get_rng_state()))
        return super().training_step(batch, batch_idx)


def recording_module(lr: float = 1e-2, fused: bool | None = None, **kwargs) -> Recording:
    plain = make_module(lr=lr, **kwargs)
    module = Recording.__new__(Recording)
    module.__dict__ = plain.__dict__
    module.optimizer_factory = module.head_optimizer_factory = partial(torch.optim.Adam, lr=lr, fused=fused)
    return module


def replay(module: FFModule, recorded, lr: float, compiled=None) -> torch.Tensor:
    """The recorded minibatches through whole_step, each from its recorded RNG state."""
    layers, head = module.net.layers, module.head
    opts = [AdamState(list(layer.parameters())) for layer in layers]
    head_opt = AdamState(list(head.parameters()))
    stats = torch.zeros(len(layers), 5)
    step = compiled or whole_step
    thetas = torch.tensor(module.thresholds_at(0))
    for x, y, rng in recorded:
        torch.set_rng_state(rng)
        out = step(
            module.net,
            head,
            opts,
            head_opt,
            x,
            y,
            thetas,
            torch.tensor(lr),
            torch.tensor(lr),
            stats,
            module.negative_sampler,
            module.layer_steps,
            module.num_classes,
            module.input_dropout,
            module.goodness_from_layer,
            module.label_mode,
            module.label_scale,
        )
    return out


@pytest.mark.parametrize("fused", [None, True])
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"objective": "symba", "goodness_from_layer": 0, "input_dropout": 0.2},
        {"peer_normalisation": 0.03, "dropout": 0.3, "negatives_per_image": 3},
    ],
)
def test_whole_step_trains_the_weights_of_the_plain_path(fused, settings):
    torch.manual_seed(0)
    ref = recording_module(fused=fused, **settings)
    twin = copy.deepcopy(ref)
    _fit(ref)
    replay(twin, ref.recorded, 1e-2)
    assert len(ref.recorded) == 10
    for a, b in zip(ref.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


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
    assert out.shape == (2,) and out[1] == 0
