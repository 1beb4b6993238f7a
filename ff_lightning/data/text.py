"""Reviews to fixed-size vectors: tokenising, gensim Word2Vec, (TF-IDF weighted) means, and a disk cache.

Word2Vec learns only from training reviews (and, when asked, the unlabelled ones): the test
reviews are tokenised after the vectors exist and only ever looked up in them.
"""

import hashlib
import json
import logging
import os
import re
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import sparse

from ff_lightning.data.settings import VectorSettings

log = logging.getLogger("ff_lightning")

# bump when tokenise() changes, so that cached vectors built with the old rule are not reused
TOKENIZER_VERSION = 1
_TAG = re.compile(r"<[^>]*>")
# words (with an inner apostrophe: don't, director's) and the two punctuation marks that carry
# sentiment; everything else separates tokens
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[!?]")


def tokenise(review: str) -> list[str]:
    """Lower-case tokens; the reviews' HTML line breaks (<br />) and other tags are separators."""
    return _TOKEN.findall(_TAG.sub(" ", review.lower()))


def word_key(settings: VectorSettings, source_id: str) -> str:
    """The cache key of the word vectors: the data, the tokeniser and every Word2Vec setting."""
    fields = asdict(settings)
    del fields["pooling"], fields["workers"]
    if settings.pretrained is not None:
        path = Path(settings.pretrained).expanduser().resolve()
        # the file, not the Word2Vec settings, decides the vectors
        fields = {"pretrained": f"{path}:{path.stat().st_size}:{path.stat().st_mtime_ns}"}
    else:
        fields["workers_deterministic"] = settings.workers == 1
    return _digest({"source": source_id, "tokenizer": TOKENIZER_VERSION, **fields})


def review_key(settings: VectorSettings, source_id: str) -> str:
    """The cache key of the review vectors: the word vectors' and the pooling."""
    return _digest({"words": word_key(settings, source_id), "pooling": settings.pooling})


def _digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _stable_hash(word: str) -> int:
    # gensim seeds each word's initial vector with hashfxn; Python's hash() of a str changes
    # from process to process, which would make a seeded run irreproducible
    return zlib.crc32(word.encode("utf-8"))


def source_id(source: Path) -> str:
    if source.is_file():
        return f"{source.name}:{source.stat().st_size}"
    return str(source.resolve())


def cache_folder(cache_dir: str | None, data_dir: str) -> Path:
    """cache_dir (default <data_dir>/cache)/imdb; a read-only one falls back to ~/.cache/ff_lightning."""
    folder = Path(cache_dir or Path(data_dir) / "cache").expanduser() / "imdb"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
        return folder
    except OSError:
        fallback = Path.home() / ".cache" / "ff_lightning" / "imdb"
        fallback.mkdir(parents=True, exist_ok=True)
        log.warning("IMDb cache: %s is not writable, using %s (set paths.cache_dir)", folder, fallback)
        return fallback


def train_word2vec(corpus: Sequence[list[str]], settings: VectorSettings):
    """A gensim Word2Vec trained on the given token lists, a log line after each of its epochs;
    returns its KeyedVectors."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochLines(CallbackAny2Vec):
        def __init__(self) -> None:
            self.epoch, self.start = 0, time.perf_counter()

        def on_epoch_end(self, model: Word2Vec) -> None:
            self.epoch += 1
            seconds = time.perf_counter() - self.start
            log.info("IMDb Word2Vec: epoch %d/%d, %.0f s", self.epoch, settings.epochs, seconds)

    # gensim reports progress every second at INFO: minutes of lines in train.log; a line an
    # epoch is logged here instead
    logging.getLogger("gensim").setLevel(logging.WARNING)
    model = Word2Vec(
        sentences=corpus,
        vector_size=settings.dim,
        window=settings.window,
        min_count=settings.min_count,
        sg=settings.sg,
        negative=settings.negative,
        epochs=settings.epochs,
        workers=settings.workers,
        seed=settings.seed,
        hashfxn=_stable_hash,
        callbacks=[EpochLines()],
    )
    return model.wv


def load_pretrained(path: str):
    from gensim.models import KeyedVectors

    p = Path(path).expanduser()
    if p.suffix in (".kv", ".model"):
        return KeyedVectors.load(str(p))
    return KeyedVectors.load_word2vec_format(str(p), binary=p.suffix == ".bin")


def counts_matrix(docs: Sequence[list[str]], key_to_index: dict[str, int]) -> sparse.csr_matrix:
    """docs x vocabulary token counts; words outside the vocabulary are dropped."""
    rows, cols = [], []
    for r, doc in enumerate(docs):
        idx = [key_to_index[t] for t in doc if t in key_to_index]
        rows.extend([r] * len(idx))
        cols.extend(idx)
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(docs), len(key_to_index)))


def idf_weights(counts: sparse.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency, log((1 + N) / (1 + df)) + 1, from the given documents."""
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    return (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)


def pool(counts: sparse.csr_matrix, vectors: np.ndarray, idf: np.ndarray | None = None) -> np.ndarray:
    """Each document's (idf-weighted) mean word vector; a document with no known word is all zeros."""
    weights = counts if idf is None else counts.multiply(idf[None, :]).tocsr()
    total = np.asarray(weights.sum(axis=1)).ravel()
    return (weights @ vectors) / np.maximum(total, 1e-12)[:, None]


@dataclass
class Features:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    info: dict[str, Any]


def _save_atomic(obj: Any, path: Path, save: Callable[[Any, str], None]) -> None:
    # a sweep's jobs may build the same cache entry at once: write aside, then rename
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save(obj, str(tmp))
    os.replace(tmp, path)


def review_features(
    source: Path,
    settings: VectorSettings,
    cache_root: Path,
    read: Callable[[bool], Any],
) -> Features:
    """Review vectors for the train and test splits, from the cache when an entry matches.

    read(with_unsup) returns an ff_lightning.data.imdb.Reviews; it is called only on a cache miss.
    """
    sid = source_id(source)
    cache_root.mkdir(parents=True, exist_ok=True)
    reviews_path = cache_root / f"reviews-{review_key(settings, sid)}.pt"
    if reviews_path.is_file():
        saved = torch.load(reviews_path, weights_only=True)
        log.info("IMDb review vectors: cache hit %s (no tokenising, no Word2Vec training)", reviews_path)
        info = {
            "cache": "reviews",
            "cache_file": str(reviews_path),
            "tokenise_seconds": 0.0,
            "word2vec_seconds": 0.0,
        }
        return Features(saved["x_train"], saved["y_train"], saved["x_test"], saved["y_test"], info)

    info: dict[str, Any] = {"cache": "miss", "cache_file": str(reviews_path)}
    # the unlabelled reviews only ever feed Word2Vec training (and its idf), never pretrained vectors
    with_unsup = settings.use_unsup and settings.pretrained is None
    t0 = time.perf_counter()
    reviews = read(with_unsup)
    info["read_seconds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_docs = [tokenise(r) for r in reviews.texts["train"]]
    unsup_docs = [tokenise(r) for r in reviews.texts.get("unsup", [])] if with_unsup else []
    info["tokenise_seconds"] = time.perf_counter() - t0

    words_path = cache_root / f"word2vec-{word_key(settings, sid)}.kv"
    t0 = time.perf_counter()
    if settings.pretrained is not None:
        wv = load_pretrained(settings.pretrained)
        log.info("IMDb word vectors: pretrained %s (%d words)", settings.pretrained, len(wv))
    elif words_path.is_file():
        from gensim.models import KeyedVectors

        wv = KeyedVectors.load(str(words_path))
        info["cache"] = "words"
        log.info("IMDb word vectors: cache hit %s (Word2Vec training skipped)", words_path)
    else:
        corpus = train_docs + unsup_docs  # never a test review
        log.info(
            "IMDb Word2Vec: training on %d reviews (%d dims, %d epochs)",
            len(corpus),
            settings.dim,
            settings.epochs,
        )
        wv = train_word2vec(corpus, settings)
        # separately=[]: one file, so that the rename below moves all of it
        _save_atomic(wv, words_path, lambda kv, p: kv.save(p, separately=[]))
        info["word2vec_file"] = str(words_path)
    info["word2vec_seconds"] = time.perf_counter() - t0
    info["vocabulary"] = len(wv)

    t0 = time.perf_counter()
    test_docs = [tokenise(r) for r in reviews.texts["test"]]
    info["tokenise_seconds"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    vectors = wv.vectors.astype(np.float32)
    train_counts = counts_matrix(train_docs, wv.key_to_index)
    idf = None
    if settings.pooling == "tfidf":
        fit = (
            train_counts
            if not unsup_docs
            else sparse.vstack([train_counts, counts_matrix(unsup_docs, wv.key_to_index)])
        )
        idf = idf_weights(fit.tocsr())
    x_train = pool(train_counts, vectors, idf)
    x_test = pool(counts_matrix(test_docs, wv.key_to_index), vectors, idf)
    info["pool_seconds"] = time.perf_counter() - t0

    features = {
        "x_train": torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32)),
        "y_train": torch.tensor(reviews.labels["train"], dtype=torch.int64),
        "x_test": torch.from_numpy(np.ascontiguousarray(x_test, dtype=np.float32)),
        "y_test": torch.tensor(reviews.labels["test"], dtype=torch.int64),
    }
    _save_atomic(features, reviews_path, torch.save)
    log.info(
        "IMDb review vectors: read %.1f s, tokenise %.1f s, Word2Vec %.1f s, pooling %.1f s -> %s",
        info["read_seconds"],
        info["tokenise_seconds"],
        info["word2vec_seconds"],
        info["pool_seconds"],
        reviews_path,
    )
    return Features(**features, info=info)
