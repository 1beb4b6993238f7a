import gzip
from pathlib import Path

import pytest
from torchvision.datasets import MNIST

from ff_lightning.data.local import MNIST_FILES, MNIST_MD5, check_local_copy, mnist_files
from ff_lightning.errors import UserInputError
from tests.conftest import compose_cfg


def test_the_md5_record_is_torchvisions():
    assert {name: md5 for name, md5 in MNIST.resources} == {
        name: md5 for name, md5 in MNIST_MD5.items() if name.endswith(".gz")
    }


def dataset(*overrides: str):
    return compose_cfg(["dataset.download=false", *overrides]).dataset


def test_a_local_copy_is_checked_before_a_run_that_may_not_download(mnist_dir, tmp_path):
    check_local_copy(dataset(f"paths.data_dir={mnist_dir}"))
    assert set(mnist_files(mnist_dir)) == set(MNIST_FILES)
    with pytest.raises(UserInputError, match=rf"MNIST not found in {tmp_path}/mnist/ .*FF_DATA_DIR"):
        check_local_copy(dataset(f"paths.data_dir={tmp_path}"))
    with pytest.raises(UserInputError, match=rf"IMDb not found in {tmp_path}/imdb/ .*download=false"):
        check_local_copy(dataset("dataset=imdb", f"paths.data_dir={tmp_path}"))
    # a run that may download fetches a missing copy itself; the synthetic set has no files
    check_local_copy(compose_cfg([f"paths.data_dir={tmp_path}"]).dataset)
    check_local_copy(compose_cfg(["dataset=synthetic"]).dataset)


def test_a_changed_file_fails_its_checksum_in_either_layout(mnist_gz_folder, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES.values():
        (raw / name).write_bytes(gzip.decompress((mnist_gz_folder / f"{name}.gz").read_bytes()))
    assert mnist_files(tmp_path) == {key: raw / name for key, name in MNIST_FILES.items()}
    labels = bytearray((raw / "t10k-labels-idx1-ubyte").read_bytes())
    labels[100] = (labels[100] + 1) % 10
    (raw / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    with pytest.raises(UserInputError, match="t10k-labels-idx1-ubyte fails its md5 checksum"):
        mnist_files(tmp_path)


def test_a_failed_download_leaves_no_folders_behind(tmp_path, monkeypatch):
    import ff_lightning.data.mnist as mnist

    def fails_half_way(root, train, download):  # as torchvision does: makes MNIST/raw, then fails
        (Path(root) / "MNIST" / "raw").mkdir(parents=True)
        raise OSError("Name or service not known")

    monkeypatch.setattr(mnist, "MNIST", fails_half_way)
    (tmp_path / "data").mkdir()
    with pytest.raises(UserInputError, match="download failed: Name or service not known"):
        mnist.load_mnist(tmp_path / "data" / "new" / "folder", download=True)
    # the folders the download made are gone; the one that was there stays
    assert [p.name for p in tmp_path.iterdir()] == ["data"] and list((tmp_path / "data").iterdir()) == []
