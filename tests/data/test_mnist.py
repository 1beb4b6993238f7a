import gzip
import shutil

import pytest
import torch

from ff_lightning.data.local import MNIST_FILES
from ff_lightning.data.mnist import MNISTDataModule, load_mnist
from ff_lightning.errors import UserInputError
from ff_lightning.run.builders import build, build_model
from tests.conftest import compose_cfg


def test_reads_the_original_gz_files(mnist_dir):
    data = load_mnist(mnist_dir, download=False)
    assert data["x_train"].shape == (60000, 28, 28) and data["x_train"].dtype == torch.uint8
    assert data["x_test"].shape == (10000, 28, 28)
    assert data["y_train"].shape == (60000,) and set(data["y_test"].unique().tolist()) == set(range(10))
    # the first 10 pixels, where the label goes, are blank in every image
    assert data["x_train"].reshape(60000, -1)[:, :10].max() == 0


def test_reads_torchvisions_layout(mnist_dir, mnist_gz_folder, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES.values():
        with gzip.open(mnist_gz_folder / f"{name}.gz") as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    data = load_mnist(tmp_path, download=False)
    reference = load_mnist(mnist_dir, download=False)
    assert torch.equal(data["x_test"], reference["x_test"])
    assert torch.equal(data["y_train"], reference["y_train"])


def test_missing_folder_fails_with_one_line_naming_folder_and_variable(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(UserInputError) as err:
        load_mnist(missing, download=False)
    msg = str(err.value)
    assert str(missing) in msg and "FF_DATA_DIR" in msg and "\n" not in msg


def test_altered_file_fails_its_checksum(mnist_gz_folder, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_FILES.values():
        shutil.copy(mnist_gz_folder / f"{name}.gz", folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(UserInputError, match="t10k-labels-idx1-ubyte.gz fails its md5"):
        load_mnist(tmp_path, download=False)


def test_datamodule_splits_scales_and_subsets(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), val_size=5000, train_subset=1000)
    dm.setup("fit")
    x, y = dm.splits["train"]
    assert x.shape == (1000, 784) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert dm.splits["val"][0].shape == (5000, 784)
    assert dm.splits["test"][0].shape == (10000, 784)
    # validation images are the last 5000 training images, disjoint from the training part
    full = load_mnist(mnist_dir, download=False)["y_train"]
    assert torch.equal(dm.splits["val"][1], full[55000:])
    assert torch.equal(y, full[:1000])


def test_label_scale_is_the_value_written_into_the_true_labels_pixel(mnist_dir, tmp_path):
    labels = torch.tensor([0, 3, 9])
    x = torch.rand(3, 784) * 0.5
    for setting, expected in (("null", x.amax(dim=1, keepdim=True)), ("4", torch.full((3, 1), 4.0))):
        cfg = compose_cfg(
            [f"paths.data_dir={mnist_dir}", f"dataset.label_scale={setting}", "model.hidden_dims=[8]"],
            tmp_path,
        )
        dm = build(cfg.dataset)
        model = build_model(cfg, dm)
        out = model.with_label(x, labels)
        assert torch.equal(out[:, :10], torch.nn.functional.one_hot(labels, 10) * expected)
        assert torch.equal(out[:, 10:], x[:, 10:])


def test_mnist_declares_its_ten_classes_and_refuses_another_count(tmp_path):

    assert MNISTDataModule(str(tmp_path), num_classes=10).num_classes == 10
    with pytest.raises(ValueError, match="dataset.num_classes: MNIST has 10 classes, got 3"):
        MNISTDataModule(str(tmp_path), num_classes=3)
