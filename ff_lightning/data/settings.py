"""What each dataset's settings allow, declared once beside the data code: one dataclass per
datamodule (its yaml's keys, their ranges) and the facts the checks need (does it hold images).
ff_lightning.run.validate builds its checks from these before a run; kept free of torch, so that
a command line is checked in a second.

A new dataset needs no entry here: its datamodule's loader settings (batch sizes, the validation
split) are checked as every dataset's, and its own arguments as Python does."""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

from ff_lightning.declarations import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE_INT, Number, check, setting
from ff_lightning.errors import UserInputError

# a count that may be null (all of it)
_SOME = Number(integer=True, low=0, open_low=True, nullable=True)
# how an IMDb review's word vectors become one vector (data/text.py)
POOLINGS = ("mean", "tfidf")
# what an IMDb review's vector is made of (data/text.py)
FEATURES = ("words", "doc2vec", "both")


@dataclass(frozen=True)
class LoaderSettings:
    """Every dataset's (ff_lightning.data.tensors.TensorDataModule): batches and splits."""

    # False: a sample is not an image (a conv model is refused); None: a flat square sample is
    # read as an image (the conv models check its size)
    images: ClassVar[bool | None] = None
    num_classes: int | None = setting(None, Number(integer=True, low=2, nullable=True))
    batch_size: int = setting(100, POSITIVE_INT)
    eval_batch_size: int = setting(1000, POSITIVE_INT)
    # training minibatches of one optimizer step, each a forward pass (model=ff_mlp)
    batches_per_step: int = setting(1, Number(integer=True, low=1))
    val_size: int = setting(5000, NON_NEGATIVE_INT)
    train_subset: int | None = setting(None, _SOME)


@dataclass(frozen=True)
class MNISTSettings(LoaderSettings):
    """dataset=mnist (ff_lightning.data.mnist.MNISTDataModule)."""

    images: ClassVar[bool] = True
    # random shifts of up to this many pixels; the image is 28 wide, the digit about 20
    jitter: int = setting(0, Number(integer=True, low=0, high=13))
    # null: each image's brightest pixel value
    label_scale: float | None = setting(None, Number(low=0, open_low=True, nullable=True))


@dataclass(frozen=True)
class IMDbSettings(LoaderSettings):
    """dataset=imdb (ff_lightning.data.imdb.IMDbDataModule); dataset.vectors: VectorSettings."""

    images: ClassVar[bool | None] = False

    reviews_per_class: int | None = setting(12500, _SOME)
    # null: the bare one-hot pair
    label_scale: float | None = setting(1.0, Number(low=0, open_low=True, nullable=True))
    split_seed: int = setting(0, NON_NEGATIVE_INT)


@dataclass(frozen=True)
class SyntheticSettings(LoaderSettings):
    """dataset=synthetic (ff_lightning.data.synthetic.SyntheticDataModule)."""

    num_train: int = setting(2000, POSITIVE_INT)
    num_test: int = setting(500, POSITIVE_INT)
    input_dim: int = setting(64, POSITIVE_INT)
    noise: float = setting(0.5, NON_NEGATIVE)
    data_seed: int = setting(0, NON_NEGATIVE_INT)


@dataclass(frozen=True)
class VectorSettings:
    """Everything that changes IMDb's review vectors (dataset.vectors); all of it goes into the
    cache key (ff_lightning.data.text)."""

    dim: int = setting(300, POSITIVE_INT)
    window: int = setting(5, POSITIVE_INT)
    min_count: int = setting(2, POSITIVE_INT)
    sg: int = setting(0, Number(integer=True, low=0, high=1))  # 0: CBOW, 1: skip-gram
    negative: int = setting(5, POSITIVE_INT)
    epochs: int = setting(5, POSITIVE_INT)
    # one worker thread makes Word2Vec deterministic; more are faster but vary run to run
    workers: int = setting(1, POSITIVE_INT)
    seed: int = setting(0, NON_NEGATIVE_INT)
    use_unsup: bool = False
    pooling: str = setting("mean", words=POOLINGS)
    # a review's vector: the pooled word vectors (words), a PV-DBOW paragraph vector (doc2vec), or
    # the two side by side (both)
    features: str = setting("words", words=FEATURES)
    # the paragraph vectors' size and epochs; window, min_count, negative, seed, workers and
    # use_unsup are shared with the word vectors
    doc_dim: int = setting(100, POSITIVE_INT)
    doc_epochs: int = setting(20, POSITIVE_INT)
    # a KeyedVectors file (.kv/.model: gensim's own format; .bin / .txt / .vec: word2vec format)
    # used instead of training Word2Vec
    pretrained: str | None = None

    def __post_init__(self) -> None:
        try:
            check("dataset.vectors", VectorSettings, asdict(self))
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
        if self.pretrained is not None and not Path(self.pretrained).expanduser().is_file():
            raise UserInputError(f"dataset.vectors.pretrained={self.pretrained} is not a file")


# each datamodule's declaration, by the _target_ its yaml names
DATASETS: dict[str, type[LoaderSettings]] = {
    "ff_lightning.data.mnist.MNISTDataModule": MNISTSettings,
    "ff_lightning.data.imdb.IMDbDataModule": IMDbSettings,
    "ff_lightning.data.synthetic.SyntheticDataModule": SyntheticSettings,
}


def dataset_settings(target: str) -> type[LoaderSettings]:
    """The declaration of the datamodule `target` names; a dataset without one is checked as
    every dataset is (LoaderSettings)."""
    return DATASETS.get(target, LoaderSettings)
