"""A tiny generated classification set, for fast unit tests only."""

import torch

from ff_lightning.data.tensors import TensorDataModule


class SyntheticDataModule(TensorDataModule):
    """Gaussian clusters, one per class; the first `num_classes` features are blank like MNIST's
    first pixels, so a label can be written there."""

    def __init__(
        self,
        num_train: int = 2000,
        num_test: int = 500,
        input_dim: int = 64,
        num_classes: int = 10,
        noise: float = 0.5,
        data_seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_train, self.num_test = num_train, num_test
        self.input_dim, self.num_classes = input_dim, num_classes
        self.noise, self.data_seed = noise, data_seed

    def load(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.data_seed)
        centres = torch.rand(self.num_classes, self.input_dim, generator=g)
        centres[:, : self.num_classes] = 0

        def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
            y = torch.randint(0, self.num_classes, (n,), generator=g)
            x = centres[y] + self.noise * torch.rand(n, self.input_dim, generator=g)
            x[:, : self.num_classes] = 0
            return x, y

        return (*sample(self.num_train), *sample(self.num_test))
