"""MNIST from a local copy (the four original idx files, gzipped or not, in `mnist/` or
torchvision's `MNIST/raw/`), or downloaded. Every file read is checked against the original's
md5 first, in every layout."""

import gzip
import tempfile
from functools import partial
from pathlib import Path

import torch
from torchvision.datasets import MNIST
from torchvision.datasets.mnist import read_image_file, read_label_file

from ff_lightning.data.augment import jitter as shift_images
from ff_lightning.data.local import mnist_files, mnist_not_found, no_empty_folders_left
from ff_lightning.data.tensors import TensorDataModule


def _read(path: Path, reader) -> torch.Tensor:
    if path.suffix != ".gz":
        return reader(str(path))
    # torchvision's reader takes a path to an uncompressed file
    with gzip.open(path, "rb") as src, tempfile.NamedTemporaryFile() as tmp:
        tmp.write(src.read())
        tmp.flush()
        return reader(tmp.name)


def _download(root: Path) -> None:
    # torchvision fetches the four .gz files (md5-checked) into <root>/MNIST/raw/
    with no_empty_folders_left(root / "MNIST" / "raw"):
        MNIST(str(root), train=True, download=True)


def load_mnist(data_dir: str | Path, download: bool = True) -> dict[str, torch.Tensor]:
    """Raw uint8 images (N, 28, 28) and int64 labels, from the first copy found under data_dir."""
    paths = mnist_files(data_dir)
    if paths is None:
        reason = "download=false"
        if download:
            try:
                _download(Path(data_dir).expanduser().resolve())
            except Exception as exc:  # any network failure means the same thing to the user
                reason = "download failed: " + str(exc).splitlines()[-1].strip()
            else:
                paths = mnist_files(data_dir)
                reason = "the download left no MNIST/raw/*.gz files"
        if paths is None:
            raise mnist_not_found(data_dir, reason)
    return {k: _read(p, read_image_file if k.startswith("x") else read_label_file) for k, p in paths.items()}


class MNISTDataModule(TensorDataModule):
    """Flattened 28x28 images scaled to [0, 1]; labels go into the first 10 pixels."""

    input_dim = 784
    num_classes = 10

    def __init__(
        self,
        data_dir: str,
        download: bool = True,
        jitter: int = 0,
        label_scale: float | None = None,
        num_classes: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.check_declared_classes(num_classes)
        self.data_dir = data_dir
        self.download = download
        self.label_scale = None if label_scale is None else float(label_scale)
        self.jitter = jitter
        if jitter:
            # random shifts of up to `jitter` pixels, drawn per image on the training device
            self.augment = partial(shift_images, max_shift=jitter, side=28)

    def load(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        raw = load_mnist(self.data_dir, self.download)

        def images(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(len(t), -1).float() / 255.0

        return images(raw["x_train"]), raw["y_train"].long(), images(raw["x_test"]), raw["y_test"].long()
