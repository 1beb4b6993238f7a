"""The datasets' local copies, found and checked with the standard library alone: train.py names
a missing or damaged copy before it imports torch or writes a run folder, and the data modules
read the same files."""

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ff_lightning.errors import UserInputError

MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# the original files' md5 sums: gzipped as published (torchvision's record, MNIST.resources),
# and decompressed (what torchvision's download leaves beside them)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
DATA_HINT = "set FF_DATA_DIR or paths.data_dir= to the folder that holds"


@functools.lru_cache(maxsize=64)
def _md5(path: str, mtime_ns: int, size: int) -> str:
    # keyed by the file's time and size as well: a sweep checks the same files once, a replaced
    # file again
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mnist_files(data_dir: str | Path) -> dict[str, Path] | None:
    """The four idx files of the first complete copy under data_dir (`mnist/` or torchvision's
    `MNIST/raw/`, gzipped or not), each checked against the original's md5; None without one."""
    root = Path(data_dir).expanduser().resolve()
    for folder in (root / "mnist", root / "MNIST" / "raw"):
        for suffix in (".gz", ""):
            paths = {key: folder / f"{name}{suffix}" for key, name in MNIST_FILES.items()}
            if not all(p.is_file() for p in paths.values()):
                continue
            for p in paths.values():
                stat = p.stat()
                if _md5(str(p), stat.st_mtime_ns, stat.st_size) != MNIST_MD5[p.name]:
                    raise UserInputError(
                        f"MNIST file {p} fails its md5 checksum: replace it with the original"
                    )
            return paths
    return None


def mnist_not_found(data_dir: str | Path, reason: str) -> UserInputError:
    root = Path(data_dir).expanduser().resolve()
    return UserInputError(
        f"MNIST not found in {root}/mnist/ or {root}/MNIST/raw/ (the four idx files, .gz or not) "
        f"({reason}); {DATA_HINT} them"
    )


def imdb_source(data_dir: str | Path) -> Path | None:
    """The first extracted aclImdb folder or archive found under data_dir, or None."""
    root = Path(data_dir).expanduser().resolve()
    for folder in (root / "imdb" / "aclImdb", root / "aclImdb"):
        if (folder / "train").is_dir() or (folder / "test").is_dir():
            return folder
    for folder in (root / "imdb", root):
        archives = sorted(folder.glob("aclImdb*.tar*")) if folder.is_dir() else []
        if archives:
            return archives[0]
    return None


def imdb_not_found(data_dir: str | Path, reason: str) -> UserInputError:
    root = Path(data_dir).expanduser().resolve()
    return UserInputError(
        f"IMDb not found in {root}/imdb/ (aclImdb_v1.tar.gz, another tar of aclImdb/, or the extracted "
        f"aclImdb/ folder) ({reason}); {DATA_HINT} it"
    )


def check_local_copy(dataset: Any) -> None:
    """With `dataset.download=false`, the chosen dataset's local copy is there (MNIST's intact).
    With a download allowed, a missing copy is fetched when the run starts."""
    if dataset.get("download", True):
        return
    target = str(dataset.get("_target_", ""))
    if target.endswith(".MNISTDataModule") and mnist_files(dataset.data_dir) is None:
        raise mnist_not_found(dataset.data_dir, "download=false")
    if target.endswith(".IMDbDataModule") and imdb_source(dataset.data_dir) is None:
        raise imdb_not_found(dataset.data_dir, "download=false")


@contextmanager
def no_empty_folders_left(folder: Path) -> Iterator[None]:
    """A download into folder that fails removes the folders it made on the way (those that did
    not exist before and are still empty), so a failed download leaves the data folder as it was."""
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        yield
    except BaseException:
        for path in made:  # deepest first
            try:
                path.rmdir()
            except OSError:
                pass  # not empty, or not made after all
        raise
