"""The aclImdb loader on small archives and folders built here, and the data module on them."""

import io
import logging
import tarfile
from pathlib import Path

import pytest
import torch

from ff_lightning.data.imdb import IMDbDataModule, locate, read_reviews
from ff_lightning.data.local import imdb_source
from ff_lightning.errors import UserInputError

WORDS = {"pos": "great wonderful loved it", "neg": "awful boring hated it"}


def review_files(per_class: int = 3, skip: tuple[str, ...] = (), short: dict[str, int] | None = None) -> dict:
    """aclImdb-style paths -> texts; `skip` leaves folders out, `short` gives some folders fewer files."""
    files = {}
    for split in ("train", "test"):
        for cls in ("pos", "neg"):
            folder = f"{split}/{cls}"
            if folder in skip:
                continue
            for i in range((short or {}).get(folder, per_class)):
                files[f"aclImdb/{folder}/{i}_{8 if cls == 'pos' else 2}.txt"] = (
                    f"Review {i}: {WORDS[cls]}!<br /><br />The {split} {cls} text."
                )
    for i in range(2):
        files[f"aclImdb/train/unsup/{i}_0.txt"] = f"unlabelled review {i} with plain words"
    files["aclImdb/README"] = "not a review"
    return files


def write_tar(path: Path, files: dict[str, str], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, body in files.items():
            data = body.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("mode,suffix", [("w:gz", ".tar.gz"), ("w:xz", ".tar.xz"), ("w", ".tar")])
def test_reads_any_tar_of_the_tree_in_order(tmp_path, mode, suffix):
    archive = write_tar(tmp_path / f"aclImdb_v1{suffix}", review_files(), mode)
    reviews = read_reviews(archive, with_unsup=True, per_class=3)
    assert reviews.labels["train"] == [0, 0, 0, 1, 1, 1] and reviews.labels["test"] == [0, 0, 0, 1, 1, 1]
    assert "awful" in reviews.texts["train"][0] and "great" in reviews.texts["train"][-1]
    assert reviews.texts["test"][0].startswith("Review 0") and "test neg" in reviews.texts["test"][0]
    assert len(reviews.texts["unsup"]) == 2
    assert "unsup" not in read_reviews(archive, with_unsup=False, per_class=3).texts


def test_extracted_folder_reads_like_the_archive(tmp_path):
    files = review_files()
    for name, body in files.items():
        path = tmp_path / "imdb" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    archive = write_tar(tmp_path / "a.tar.gz", files)
    assert imdb_source(tmp_path) == tmp_path / "imdb" / "aclImdb"
    from_folder = read_reviews(imdb_source(tmp_path), with_unsup=True, per_class=3)
    from_archive = read_reviews(archive, with_unsup=True, per_class=3)
    assert from_folder.texts == from_archive.texts and from_folder.labels == from_archive.labels


def test_missing_class_folder_is_one_line_naming_it(tmp_path):
    archive = write_tar(tmp_path / "aclImdb_v1.tar.gz", review_files(skip=("test/neg",)))
    with pytest.raises(UserInputError) as err:
        read_reviews(archive, per_class=3)
    msg = str(err.value)
    assert (
        "test/neg" in msg and "has 0 reviews, expected 3" in msg and str(archive) in msg and "\n" not in msg
    )


def test_wrong_count_is_one_line(tmp_path):
    archive = write_tar(tmp_path / "aclImdb_v1.tar.gz", review_files(short={"train/pos": 2}))
    with pytest.raises(UserInputError, match=r"train/pos .* has 2 reviews, expected 3"):
        read_reviews(archive, per_class=3)
    # the real dataset's count is the default check
    with pytest.raises(UserInputError, match="expected 12500"):
        read_reviews(write_tar(tmp_path / "ok.tar.gz", review_files()))


def test_unreadable_archive_names_the_file(tmp_path):
    good = write_tar(tmp_path / "good.tar.xz", review_files(), "w:xz").read_bytes()
    broken = tmp_path / "aclImdb_v1.tar.xz"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(UserInputError, match="cannot be read") as err:
        read_reviews(broken, per_class=3)
    assert str(broken) in str(err.value) and "\n" not in str(err.value)


def test_missing_data_is_one_line_naming_folder_and_variable(tmp_path):
    with pytest.raises(UserInputError) as err:
        locate(tmp_path / "nowhere", allow_download=False)
    msg = str(err.value)
    assert "nowhere" in msg and "FF_DATA_DIR" in msg and "\n" not in msg


def test_data_module_on_a_small_archive(tmp_path):
    (tmp_path / "imdb").mkdir()
    write_tar(tmp_path / "imdb" / "aclImdb_v1.tar.gz", review_files(per_class=20))
    dm = IMDbDataModule(
        data_dir=str(tmp_path),
        cache_dir=str(tmp_path / "cache"),
        download=False,
        reviews_per_class=20,
        label_scale=3.0,
        vectors={"dim": 8, "min_count": 1, "epochs": 2},
        val_size=10,
        batch_size=10,
    )
    dm.prepare_splits()
    x, y = dm.splits["train"]
    assert x.shape == (30, 8) and dm.input_dim == 8 and dm.num_classes == 2
    # standardised with the statistics of the training part only
    assert torch.allclose(x.mean(dim=0), torch.zeros(8), atol=1e-5)
    # the shuffled tail holds both classes, whatever the file order
    assert set(dm.splits["val"][1].tolist()) == {0, 1}
    assert dm.splits["test"][0].shape == (40, 8) and dm.label_mode == "concat" and dm.label_scale == 3.0
    assert dm.info["cache"] == "miss" and dm.info["word2vec_seconds"] >= 0


QUIET_CPU = ["trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]


@pytest.mark.slow
def test_imdb_smoke_on_real_data_then_cache_reuse(tmp_path, monkeypatch, caplog):
    from ff_lightning.run.train import train
    from tests.conftest import compose_cfg, data_dir

    if imdb_source(data_dir()) is None:
        pytest.fail(f"no IMDb archive or folder under {data_dir()} (set FF_DATA_DIR)")
    # train(cfg) in this process, as train.py runs it (the command line is tested on MNIST)
    monkeypatch.setenv("FF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FF_DATA_DIR", str(data_dir()))
    caplog.set_level(logging.INFO, logger="ff_lightning")
    # one Word2Vec epoch instead of the preset's two: half its time, the same code
    common = ["experiment=imdb_smoke", "dataset.vectors.epochs=1", "logger=none", *QUIET_CPU]
    results = train(compose_cfg(common, tmp_path / "first"))
    assert results["status"] == "completed" and results["data"]["cache"] == "miss"
    assert results["data"]["word2vec_seconds"] > 0
    # measured 30.4 % / 29.9 % at this size (seed 0); the bar catches a broken pipeline (chance is
    # 50 %), not a tuning loss
    assert results["test/error_goodness"] <= 35.0 and results["test/error_head"] <= 35.0, results

    # the same vectors again: read from the cache, no Word2Vec training, and the log says so
    caplog.clear()
    quick = ["trainer.max_epochs=1", "dataset.train_subset=1000", "test=false"]
    again = train(compose_cfg([*common, *quick], tmp_path / "second"))
    assert "cache hit" in caplog.text and "Word2Vec: training" not in caplog.text
    assert again["data"]["cache"] == "reviews"
