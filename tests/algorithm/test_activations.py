import torch

from ff_lightning.algorithm.activations import StraightThroughReLU


def test_straight_through_relu_is_relu_forward_and_identity_backward():
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0], requires_grad=True)
    y = StraightThroughReLU()(x)
    assert torch.equal(y, torch.relu(x))
    y.backward(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    # the plain ReLU would give 0 for the three inputs <= 0
    assert torch.equal(x.grad, torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
