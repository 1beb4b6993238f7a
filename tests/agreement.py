"""How closely two float32 trainings of the same weights must agree when they differ only in the
order of their arithmetic (the whole step against the per-layer steps, fused against plain Adam,
compiled against eager, minibatches grouped or not).

Float32 sums taken in another order differ in their last bits, and Adam turns such a difference
into a whole step for a weight whose gradient is near zero (it divides by the gradient's running
size), so after a few steps single weights drift apart by far more than float32's 6e-8.
`python benchmarks/float_agreement.py` measures it: over 10-20 Adam steps of lr 1e-2 on
tests/test_module's synthetic data, the largest difference of any weight was 1.2e-5 and the
largest difference of a tensor 7.5e-6 of its norm, the same under every kernel of one machine
(an AMD EPYC with torch's AVX512, AVX2 and unvectorised kernels, MKL's AVX2 and SSE4.2 matrix
products, 1 and 2 threads) and within what an Intel Xeon gave (1.0e-5 passed there). A real
change to the step moves far more: the learning rate 0.1 % off moves the weights by 6.3e-4 at
least and 7.4e-4 of a tensor's norm. The bounds below sit about 8 times above the drift and 6
times below that change."""

import torch

# the largest difference of any one weight
MAX_ABS = 1e-4
# the largest difference of a tensor, as a fraction of its norm
MAX_RELATIVE_NORM = 5e-5


def assert_same_training(trained: list[torch.Tensor], reference: list[torch.Tensor]) -> None:
    """The tensors of two trainings agree within float32 reordering drift (see the module's doc)."""
    assert len(trained) == len(reference)
    for i, (a, b) in enumerate(zip(trained, reference, strict=True)):
        a, b = a.detach(), b.detach()
        assert a.shape == b.shape, (i, a.shape, b.shape)
        largest = (a - b).abs().max().item()
        relative = ((a - b).norm() / b.norm().clamp_min(1e-12)).item()
        assert largest <= MAX_ABS, f"tensor {i}: a weight differs by {largest:.2e} > {MAX_ABS:.0e}"
        assert relative <= MAX_RELATIVE_NORM, (
            f"tensor {i}: differs by {relative:.2e} of its norm > {MAX_RELATIVE_NORM:.0e}"
        )
