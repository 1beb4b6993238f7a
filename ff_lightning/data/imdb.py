"""The Large Movie Review Dataset v1 (aclImdb): reviews read from a local archive or folder, or downloaded.

Review texts become fixed-size vectors in ff_lightning.data.text (Word2Vec means); this module
finds the data, checks the official split and hands those vectors to the FF training loop.
"""

import logging
import lzma
import re
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ff_lightning.data import text
from ff_lightning.data.local import imdb_not_found, imdb_source, no_empty_folders_left
from ff_lightning.data.settings import VectorSettings
from ff_lightning.data.tensors import TensorDataModule
from ff_lightning.errors import UserInputError

log = logging.getLogger("ff_lightning")

URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
# the official archive's md5, as torchtext and tensorflow-datasets check it
URL_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
REVIEWS_PER_CLASS = 12_500
CLASSES = ("neg", "pos")  # label 0, label 1
_REVIEW = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")


@dataclass
class Reviews:
    """Review texts by split; labels are 0 (neg) and 1 (pos); `unsup` has no labels."""

    source: Path
    texts: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, list[int]] = field(default_factory=dict)


def _collect(entries, source: Path, with_unsup: bool) -> Reviews:
    """entries: (relative path, callable returning bytes); sorted by split, class and id."""
    found: dict[tuple[str, str], list[tuple[int, bytes]]] = {}
    for name, read in entries:
        match = _REVIEW.search(name)
        if match is None:
            continue
        split, cls, idx = match[1], match[2], int(match[3])
        if cls == "unsup" and not with_unsup:
            continue
        found.setdefault((split, cls), []).append((idx, read()))
    reviews = Reviews(source)
    for split, classes in (("train", CLASSES), ("test", CLASSES), ("unsup", ("unsup",))):
        if split == "unsup" and not with_unsup:
            continue
        where = "train" if split == "unsup" else split
        for label, cls in enumerate(classes):
            items = sorted(found.get((where, cls), []))
            reviews.texts.setdefault(split, []).extend(b.decode("utf-8") for _, b in items)
            reviews.labels.setdefault(split, []).extend([label] * len(items))
    return reviews


def read_archive(path: Path, with_unsup: bool = False) -> Reviews:
    """Every review in a tar archive (any compression tarfile reads) of the aclImdb/ tree."""
    try:
        with tarfile.open(path) as tar:

            def entries():
                for member in tar:
                    if member.isfile() and _REVIEW.search(member.name):
                        yield member.name, tar.extractfile(member).read

            return _collect(entries(), path, with_unsup)
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
        raise UserInputError(
            f"IMDb archive {path} cannot be read ({exc}); replace it with aclImdb_v1.tar.gz"
        ) from exc


def read_folder(path: Path, with_unsup: bool = False) -> Reviews:
    """Every review in an extracted aclImdb/ folder (path is the folder itself)."""
    files = sorted(path.glob("*/*/*.txt"))
    return _collect(
        ((f"aclImdb/{f.relative_to(path).as_posix()}", f.read_bytes) for f in files), path, with_unsup
    )


def download(data_dir: Path) -> Path:
    from torchvision.datasets.utils import download_url

    folder = data_dir / "imdb"
    with no_empty_folders_left(folder):
        download_url(URL, str(folder), filename="aclImdb_v1.tar.gz", md5=URL_MD5)
    return folder / "aclImdb_v1.tar.gz"


def locate(data_dir: str | Path, allow_download: bool = True) -> Path:
    """Where the reviews are: a local folder or archive, else the downloaded official archive."""
    root = Path(data_dir).expanduser().resolve()
    source = imdb_source(root)
    if source is not None:
        return source
    reason = "download=false"
    if allow_download:
        try:
            return download(root)
        except Exception as exc:  # any network failure means the same thing to the user
            reason = "download failed: " + (str(exc).splitlines() or [type(exc).__name__])[-1].strip()
    raise imdb_not_found(root, reason)


def read_reviews(
    source: Path, with_unsup: bool = False, per_class: int | None = REVIEWS_PER_CLASS
) -> Reviews:
    """Read and check the official split: `per_class` reviews in each of train and test (None: any)."""
    reviews = read_archive(source, with_unsup) if source.is_file() else read_folder(source, with_unsup)
    if per_class is not None:
        for split in ("train", "test"):
            labels = reviews.labels.get(split, [])
            for label, cls in enumerate(CLASSES):
                n = labels.count(label)
                if n != per_class:
                    raise UserInputError(
                        f"IMDb {split}/{cls} in {source} has {n} reviews, expected {per_class} "
                        f"(dataset.reviews_per_class); the archive is incomplete or not aclImdb v1"
                    )
    return reviews


class IMDbDataModule(TensorDataModule):
    """Review vectors (a Word2Vec mean, see ff_lightning.data.text) and a 2-way sentiment label.

    The label is appended to the vector as a one-hot pair times `label_scale`: each FF layer
    normalises its whole input, so an unscaled 2-dim code would be a whisper next to 300 features.
    """

    num_classes = 2
    label_mode = "concat"

    def __init__(
        self,
        data_dir: str,
        cache_dir: str | None = None,
        download: bool = True,
        reviews_per_class: int | None = REVIEWS_PER_CLASS,
        label_scale: float = 1.0,
        standardize: bool = True,
        vectors: dict[str, Any] | None = None,
        split_seed: int = 0,
        num_classes: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.check_declared_classes(num_classes)
        self.data_dir = data_dir
        self.cache_dir = cache_dir
        self.download = download
        self.reviews_per_class = reviews_per_class
        self.label_scale = label_scale
        self.standardize = standardize
        self.vector_settings = VectorSettings(**dict(vectors or {}))
        self.split_seed = split_seed
        self.input_dim = self.vector_settings.dim
        self.info: dict[str, Any] = {}

    def load(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        started = time.perf_counter()
        source = locate(self.data_dir, self.download)
        features = text.review_features(
            source,
            self.vector_settings,
            cache_root=text.cache_folder(self.cache_dir, self.data_dir),
            read=lambda with_unsup: read_reviews(source, with_unsup, self.reviews_per_class),
        )
        self.info = {**features.info, "data_seconds": time.perf_counter() - started}
        x_train, y_train = features.x_train, features.y_train
        x_test, y_test = features.x_test, features.y_test
        self.input_dim = x_train.shape[1]
        # the files come sorted neg then pos; a fixed shuffle makes the held-out tail balanced
        order = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(self.split_seed))
        x_train, y_train = x_train[order], y_train[order]
        if self.standardize:
            # statistics of the reviews trained on only (not the validation tail, never the test set)
            fit = x_train[: len(y_train) - self.val_size]
            mean, std = fit.mean(dim=0), fit.std(dim=0).clamp_min(1e-8)
            x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
        return x_train, y_train, x_test, y_test
