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
from torchvision.datasets.utils import check_integrity

from ff_lightning.data.augment import jitter as shift_images
from ff_lightning.data.tensors import TensorDataModule
from ff_lightning.errors import UserInputError

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# torchvision's own record of the original files' md5 sums
MD5 = dict(MNIST.resources)
# the same files decompressed (what torchvision's download leaves beside the .gz files)
RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def _verify(path: Path, md5: str | None) -> None:
    if not check_integrity(str(path), md5):
        raise UserInputError(f"MNIST file {path} fails its md5 checksum: replace it with the original")


def _read_gz(path: Path, reader) -> torch.Tensor:
    _verify(path, MD5[path.name])
    # torchvision's reader takes a path to an uncompressed file
    with gzip.open(path, "rb") as src, tempfile.NamedTemporaryFile() as tmp:
        tmp.write(src.read())
        tmp.flush()
        return reader(tmp.name)


def _load_gz_folder(folder: Path) -> dict[str, torch.Tensor] | None:
    paths = {k: folder / f"{name}.gz" for k, name in FILES.items()}
    if not all(p.is_file() for p in paths.values()):
        return None
    return {
        k: _read_gz(p, read_image_file if k.startswith("x") else read_label_file) for k, p in paths.items()
    }


def _load_raw_folder(folder: Path) -> dict[str, torch.Tensor] | None:
    paths = {k: folder / name for k, name in FILES.items()}
    if not all(p.is_file() for p in paths.values()):
        return None
    out = {}
    for k, p in paths.items():
        _verify(p, RAW_MD5[p.name])
        out[k] = (read_image_file if k.startswith("x") else read_label_file)(str(p))
    return out


def _download(root: Path) -> dict[str, torch.Tensor] | None:
    # torchvision fetches the four .gz files (md5-checked) into <root>/MNIST/raw/
    MNIST(str(root), train=True, download=True)
    return _load_gz_folder(root / "MNIST" / "raw")


def load_mnist(data_dir: str | Path, download: bool = True) -> dict[str, torch.Tensor]:
    """Raw uint8 images (N, 28, 28) and int64 labels, from the first layout found under data_dir."""
    root = Path(data_dir).expanduser().resolve()
    for folder in (root / "mnist", root / "MNIST" / "raw"):
        for loader in (_load_gz_folder, _load_raw_folder):
            found = loader(folder)
            if found is not None:
                return found
    reason = "download=false"
    if download:
        try:
            found = _download(root)
            if found is not None:
                return found
            reason = "the download left no MNIST/raw/*.gz files"
        except Exception as exc:  # any network failure means the same thing to the user
            reason = "download failed: " + str(exc).splitlines()[-1].strip()
    raise UserInputError(
        f"MNIST not found in {root}/mnist/ or {root}/MNIST/raw/ (the four idx files, .gz or not) "
        f"({reason}); set FF_DATA_DIR or paths.data_dir= to the folder that holds them"
    )


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
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
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
