"""Reviews to fixed-size vectors: tokenising, gensim Word2Vec and its (TF-IDF weighted) means,
gensim Doc2Vec's PV-DBOW paragraph vectors, and a disk cache.

Word2Vec and Doc2Vec learn only from training reviews (and, when asked, the unlabelled ones): the
test reviews are tokenised after the vectors exist and are only ever looked up in them (words) or
inferred against the frozen model (paragraph vectors).
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
    for review_level in ("pooling", "workers", "features", "doc_dim", "doc_epochs"):
        del fields[review_level]
    if settings.pretrained is not None:
        path = Path(settings.pretrained).expanduser().resolve()
        # the file, not the Word2Vec settings, decides the vectors
        fields = {"pretrained": f"{path}:{path.stat().st_size}:{path.stat().st_mtime_ns}"}
    else:
        fields["workers_deterministic"] = settings.workers == 1
    return _digest({"source": source_id, "tokenizer": TOKENIZER_VERSION, **fields})


def doc_key(settings: VectorSettings, source_id: str) -> str:
    """The cache key of the Doc2Vec model: the data, the tokeniser and its settings."""
    fields = {
        "doc2vec": "dbow",
        "dim": settings.doc_dim,
        "epochs": settings.doc_epochs,
        **{k: getattr(settings, k) for k in ("window", "min_count", "negative", "seed", "use_unsup")},
        "workers_deterministic": settings.workers == 1,
    }
    return _digest({"source": source_id, "tokenizer": TOKENIZER_VERSION, **fields})


def review_key(settings: VectorSettings, source_id: str) -> str:
    """The cache key of the review vectors: the word vectors' and the pooling, the Doc2Vec
    model's, or both."""
    if settings.features == "words":  # the key the word vectors alone always had
        return _digest({"words": word_key(settings, source_id), "pooling": settings.pooling})
    fields: dict[str, Any] = {"features": settings.features, "doc": doc_key(settings, source_id)}
    if settings.features == "both":
        fields |= {"words": word_key(settings, source_id), "pooling": settings.pooling}
    return _digest(fields)


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


def _epoch_lines(name: str, epochs: int):
    """A gensim callback that logs a line after each training epoch. gensim itself reports its
    progress every second at INFO, minutes of lines in train.log, so it is quietened."""
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochLines(CallbackAny2Vec):
        def __init__(self) -> None:
            self.epoch, self.start = 0, time.perf_counter()

        def on_epoch_end(self, model: Any) -> None:
            self.epoch += 1
            seconds = time.perf_counter() - self.start
            log.info("IMDb %s: epoch %d/%d, %.0f s", name, self.epoch, epochs, seconds)

    logging.getLogger("gensim").setLevel(logging.WARNING)
    return EpochLines()


def train_word2vec(corpus: Sequence[list[str]], settings: VectorSettings):
    """A gensim Word2Vec trained on the given token lists, a log line after each of its epochs;
    returns its KeyedVectors."""
    from gensim.models import Word2Vec

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
        callbacks=[_epoch_lines("Word2Vec", settings.epochs)],
    )
    return model.wv


def train_doc2vec(corpus: Sequence[list[str]], settings: VectorSettings):
    """A gensim Doc2Vec in PV-DBOW mode (dm=0: each review's vector predicts its words), one tag
    per review of the corpus, a log line after each epoch."""
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    return Doc2Vec(
        documents=[TaggedDocument(words, [i]) for i, words in enumerate(corpus)],
        dm=0,
        vector_size=settings.doc_dim,
        window=settings.window,
        min_count=settings.min_count,
        negative=settings.negative,
        epochs=settings.doc_epochs,
        workers=settings.workers,
        seed=settings.seed,
        hashfxn=_stable_hash,
        callbacks=[_epoch_lines("Doc2Vec", settings.doc_epochs)],
    )


def infer_doc_vectors(model, docs: Sequence[list[str]], seed: int) -> np.ndarray:
    """Each document's paragraph vector, inferred against the frozen model (its words and output
    weights are not updated), every document the same way, training reviews as test ones.

    gensim's infer_vector starts each vector from Python's hash() of its text, which changes from
    process to process, and draws its negative samples from the model's running generator, so a
    vector depends on the documents inferred before it. Here both come from a stable hash of the
    document's own words (and `seed`): a review's vector is the same in every process, in any
    order, from a trained or a loaded model."""
    from gensim.models.doc2vec_inner import train_document_dbow

    size, epochs = model.dv.vector_size, model.epochs
    alpha_step = (model.alpha - model.min_alpha) / max(epochs - 1, 1)
    work = np.zeros(model.layer1_size, dtype=np.float32)
    lockf = np.ones(1, dtype=np.float32)
    out = np.empty((len(docs), size), dtype=np.float32)
    for i, words in enumerate(docs):
        text_hash = _stable_hash(" ".join(words))
        start = np.random.Generator(np.random.SFC64(text_hash))
        vector = ((start.random(size).astype(np.float32) - 0.5) / size).reshape(1, size)
        model.random = np.random.RandomState((text_hash + seed) % 2**32)
        alpha = model.alpha
        for _ in range(epochs):
            train_document_dbow(
                model,
                words,
                [0],
                alpha,
                work,
                learn_words=False,
                learn_hidden=False,
                doctag_vectors=vector,
                doctags_lockf=lockf,
            )
            alpha -= alpha_step
        out[i] = vector[0]
    return out


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


def word_vectors(settings: VectorSettings, sid: str, cache_root: Path, corpus: list[list[str]], info: dict):
    """The word vectors: pretrained, from the cache, or Word2Vec trained on `corpus` (training and
    unlabelled reviews) and cached. `info` gets the time and the cache state."""
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
    return wv


def doc2vec_model(settings: VectorSettings, sid: str, cache_root: Path, corpus: list[list[str]], info: dict):
    """The Doc2Vec model: from the cache, or trained on `corpus` (training and unlabelled
    reviews) and cached. `info` gets the time and the cache state."""
    from gensim.models.doc2vec import Doc2Vec

    path = cache_root / f"doc2vec-{doc_key(settings, sid)}.model"
    t0 = time.perf_counter()
    if path.is_file():
        model = Doc2Vec.load(str(path))
        info["cache"] = "doc2vec" if info["cache"] == "miss" else f"{info['cache']}+doc2vec"
        log.info("IMDb Doc2Vec: cache hit %s (Doc2Vec training skipped)", path)
    else:
        log.info(
            "IMDb Doc2Vec: training PV-DBOW on %d reviews (%d dims, %d epochs)",
            len(corpus),
            settings.doc_dim,
            settings.doc_epochs,
        )
        model = train_doc2vec(corpus, settings)
        _save_atomic(model, path, lambda m, p: m.save(p, separately=[]))
        info["doc2vec_file"] = str(path)
    info["doc2vec_seconds"] = time.perf_counter() - t0
    return model


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
    words, docs = settings.features != "doc2vec", settings.features != "words"
    # the unlabelled reviews only ever feed Word2Vec and Doc2Vec training (and the idf), never
    # pretrained word vectors
    with_unsup = settings.use_unsup and (settings.pretrained is None or docs)
    t0 = time.perf_counter()
    reviews = read(with_unsup)
    info["read_seconds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_docs = [tokenise(r) for r in reviews.texts["train"]]
    unsup_docs = [tokenise(r) for r in reviews.texts.get("unsup", [])] if with_unsup else []
    info["tokenise_seconds"] = time.perf_counter() - t0

    wv = word_vectors(settings, sid, cache_root, train_docs + unsup_docs, info) if words else None
    model = doc2vec_model(settings, sid, cache_root, train_docs + unsup_docs, info) if docs else None

    t0 = time.perf_counter()
    test_docs = [tokenise(r) for r in reviews.texts["test"]]  # never a training document
    info["tokenise_seconds"] += time.perf_counter() - t0
    train_parts, test_parts = [], []
    if wv is not None:
        t0 = time.perf_counter()
        vectors = wv.vectors.astype(np.float32)
        train_counts = counts_matrix(train_docs, wv.key_to_index)
        idf = None
        if settings.pooling == "tfidf":
            fit = train_counts
            if unsup_docs and settings.pretrained is None:
                fit = sparse.vstack([train_counts, counts_matrix(unsup_docs, wv.key_to_index)])
            idf = idf_weights(fit.tocsr())
        train_parts.append(pool(train_counts, vectors, idf))
        test_parts.append(pool(counts_matrix(test_docs, wv.key_to_index), vectors, idf))
        info["pool_seconds"] = time.perf_counter() - t0
    if model is not None:
        t0 = time.perf_counter()
        train_parts.append(infer_doc_vectors(model, train_docs, settings.seed))
        test_parts.append(infer_doc_vectors(model, test_docs, settings.seed))
        info["infer_seconds"] = time.perf_counter() - t0
    x_train, x_test = np.hstack(train_parts), np.hstack(test_parts)

    features = {
        "x_train": torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32)),
        "y_train": torch.tensor(reviews.labels["train"], dtype=torch.int64),
        "x_test": torch.from_numpy(np.ascontiguousarray(x_test, dtype=np.float32)),
        "y_test": torch.tensor(reviews.labels["test"], dtype=torch.int64),
    }
    _save_atomic(features, reviews_path, torch.save)
    log.info(
        "IMDb review vectors: read %.1f s, tokenise %.1f s, Word2Vec %.1f s, pooling %.1f s, "
        "Doc2Vec %.1f s, inference %.1f s -> %s",
        *(info.get(f"{step}_seconds", 0.0) for step in ("read", "tokenise", "word2vec", "pool")),
        *(info.get(f"{step}_seconds", 0.0) for step in ("doc2vec", "infer")),
        reviews_path,
    )
    return Features(**features, info=info)
