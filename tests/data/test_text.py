"""Tokenising, Word2Vec training (never on test reviews), pooling, and the vector cache."""

import dataclasses
import logging

import numpy as np
import pytest
from scipy import sparse

from ff_lightning.data.imdb import Reviews
from ff_lightning.data.settings import VectorSettings
from ff_lightning.data.text import (
    counts_matrix,
    idf_weights,
    pool,
    review_features,
    review_key,
    tokenise,
    word_key,
)
from ff_lightning.errors import UserInputError


def test_tokenise_handles_html_breaks_and_punctuation():
    text = "A <i>GREAT</i> film.<br /><br />Don't miss it!!! Is it 10/10? Yes,really"
    assert tokenise(text) == [
        "a",
        "great",
        "film",
        "don't",
        "miss",
        "it",
        "!",
        "!",
        "!",
        "is",
        "it",
        "10",
        "10",
        "?",
        "yes",
        "really",
    ]


def test_pooling_is_the_mean_or_the_idf_weighted_mean():
    vocab = {"good": 0, "bad": 1, "film": 2}
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], dtype=np.float32)
    counts = counts_matrix([["good", "good", "film", "unknown"], ["bad"], ["unknown"]], vocab)
    assert counts.toarray().tolist() == [[2, 0, 1], [0, 1, 0], [0, 0, 0]]
    np.testing.assert_allclose(pool(counts, vectors), [[4 / 3, 2 / 3], [0, 1], [0, 0]], rtol=1e-6)
    idf = idf_weights(counts)
    # df: good 1, bad 1, film 1 of N=3 documents -> all log(4/2) + 1
    np.testing.assert_allclose(idf, [np.log(2) + 1] * 3, rtol=1e-6)
    docs = sparse.csr_matrix(np.array([[1, 0, 1], [1, 1, 1]], dtype=np.float32))
    idf2 = idf_weights(docs)  # film and good in both documents, bad in one
    w = np.array([idf2[0], idf2[2]])
    expected = (w[0] * vectors[0] + w[1] * vectors[2]) / w.sum()
    np.testing.assert_allclose(pool(docs, vectors, idf2)[0], expected, rtol=1e-6)


def _reviews(tmp_path) -> Reviews:
    reviews = Reviews(source=tmp_path)
    train = ["a fine film with a fine cast", "a dull film with a dull plot"] * 10
    reviews.texts = {
        "train": train,
        # a word that only test reviews contain
        "test": ["zyzzyva zyzzyva fine film", "zyzzyva dull film"],
        "unsup": ["an unlabelled film review with qwerty words"],
    }
    reviews.labels = {"train": [1, 0] * 10, "test": [1, 0]}
    return reviews


SMALL = {"dim": 8, "min_count": 1, "epochs": 1}


@pytest.mark.parametrize("use_unsup", [False, True])
def test_no_test_review_reaches_word2vec(tmp_path, monkeypatch, use_unsup):
    import ff_lightning.data.text as text

    seen = []
    real = text.train_word2vec

    def spy(corpus, settings):
        seen.extend(corpus)
        return real(corpus, settings)

    monkeypatch.setattr(text, "train_word2vec", spy)
    reviews = _reviews(tmp_path)
    feats = review_features(
        tmp_path, VectorSettings(**SMALL, use_unsup=use_unsup), tmp_path / "c", lambda _: reviews
    )
    assert seen and not any("zyzzyva" in doc for doc in seen)
    assert any("qwerty" in doc for doc in seen) == use_unsup
    from gensim.models import KeyedVectors

    wv = KeyedVectors.load(feats.info["word2vec_file"])
    assert "zyzzyva" not in wv.key_to_index and "fine" in wv.key_to_index
    assert feats.x_test.shape == (2, 8) and feats.y_test.tolist() == [1, 0]


def test_second_run_reuses_the_cache_and_says_so(tmp_path, caplog):
    settings = VectorSettings(**SMALL)
    first = review_features(tmp_path, settings, tmp_path / "c", lambda _: _reviews(tmp_path))
    assert first.info["cache"] == "miss"

    def must_not_read(_):
        raise AssertionError("a cached run read the reviews again")

    with caplog.at_level(logging.INFO, logger="ff_lightning"):
        again = review_features(tmp_path, settings, tmp_path / "c", must_not_read)
    assert again.info["cache"] == "reviews" and "no Word2Vec training" in caplog.text
    assert (again.x_train == first.x_train).all() and (again.y_test == first.y_test).all()

    # another pooling reuses the word vectors: the reviews are read again, Word2Vec is not trained
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ff_lightning"):
        tfidf = review_features(
            tmp_path,
            dataclasses.replace(settings, pooling="tfidf"),
            tmp_path / "c",
            lambda _: _reviews(tmp_path),
        )
    assert tfidf.info["cache"] == "words" and "Word2Vec training skipped" in caplog.text


# each prints the vectors gensim trained (Word2Vec) or inferred (Doc2Vec) in a fresh process
TWO_PROCESSES = {
    "word2vec": (
        "from ff_lightning.data.settings import VectorSettings; "
        "from ff_lightning.data.text import train_word2vec; "
        "docs = [['a','fine','film'],['a','dull','film']] * 20; "
        "wv = train_word2vec(docs, VectorSettings(dim=4, min_count=1)); "
        "print(wv['film'].tolist())"
    ),
    "doc2vec": (
        "from ff_lightning.data.settings import VectorSettings; "
        "from ff_lightning.data.text import infer_doc_vectors, train_doc2vec; "
        "docs = [['a','fine','film'],['a','dull','film']] * 20; "
        "s = VectorSettings(min_count=1, doc_dim=4, doc_epochs=3); "
        "print(infer_doc_vectors(train_doc2vec(docs, s), [['fine','film','!']], s.seed).tolist())"
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("code", TWO_PROCESSES.values(), ids=TWO_PROCESSES.keys())
def test_vectors_are_reproducible_across_processes(code):
    import subprocess
    import sys

    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(outs) == 1


def test_cache_key_changes_with_every_setting():
    base = VectorSettings()
    changed = {
        "dim": 100,
        "window": 8,
        "min_count": 5,
        "sg": 1,
        "negative": 10,
        "epochs": 10,
        "seed": 1,
        "use_unsup": True,
    }
    keys = {word_key(base, "src")}
    for name, value in changed.items():
        keys.add(word_key(dataclasses.replace(base, **{name: value}), "src"))
    keys.add(word_key(base, "another-archive:123"))
    assert len(keys) == len(changed) + 2
    # pooling changes the review vectors but not the word vectors
    tfidf = dataclasses.replace(base, pooling="tfidf")
    assert word_key(tfidf, "src") == word_key(base, "src")
    assert review_key(tfidf, "src") != review_key(base, "src")
    # more worker threads give other (non-deterministic) vectors; 2 and 4 threads share an entry
    assert (
        word_key(base, "s")
        != word_key(VectorSettings(workers=2), "s")
        == word_key(VectorSettings(workers=4), "s")
    )


def test_pretrained_file_replaces_the_settings_in_the_key(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("2 3\nfine 1 0 0\ndull 0 1 0\n")
    a, b = VectorSettings(pretrained=str(path)), VectorSettings(pretrained=str(path), dim=50)
    assert word_key(a, "s") == word_key(b, "s") != word_key(VectorSettings(), "s")
    feats = review_features(tmp_path, a, tmp_path / "c", lambda _: _reviews(tmp_path))
    assert feats.x_train.shape == (20, 3) and feats.info["vocabulary"] == 2


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"pooling": "max"}, "pooling=max is not an option; choose one of: mean, tfidf"),
        ({"features": "bert"}, "features=bert is not an option; choose one of: words, doc2vec, both"),
        ({"dim": 0}, "dim must be a positive integer"),
        ({"sg": 2}, "dataset.vectors.sg must be an integer from 0 to 1, got 2"),
        ({"pretrained": "/no/such/file.kv"}, "is not a file"),
    ],
)
def test_bad_settings_are_one_line(bad, match):
    with pytest.raises(UserInputError, match=match):
        VectorSettings(**bad)


def test_word2vec_training_logs_a_line_an_epoch(caplog):
    from ff_lightning.data.text import train_word2vec

    caplog.set_level(logging.INFO, logger="ff_lightning")
    train_word2vec(
        [["a", "fine", "film"], ["a", "dull", "film"]] * 20, VectorSettings(dim=4, min_count=1, epochs=3)
    )
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("IMDb Word2Vec: epoch")]
    assert [line.split(",")[0] for line in lines] == [f"IMDb Word2Vec: epoch {i}/3" for i in (1, 2, 3)]
    # gensim's own progress lines (one a second) stay out
    assert not any(r.name.startswith("gensim") for r in caplog.records)


DOCS = {**SMALL, "doc_dim": 6, "doc_epochs": 2}


@pytest.mark.parametrize("use_unsup", [False, True])
def test_no_test_review_reaches_doc2vec(tmp_path, monkeypatch, use_unsup):
    import ff_lightning.data.text as text

    seen = []
    real = text.train_doc2vec

    def spy(corpus, settings):
        seen.extend(corpus)
        return real(corpus, settings)

    monkeypatch.setattr(text, "train_doc2vec", spy)
    settings = VectorSettings(**DOCS, features="both", use_unsup=use_unsup)
    feats = review_features(tmp_path, settings, tmp_path / "c", lambda _: _reviews(tmp_path))
    assert seen and not any("zyzzyva" in doc for doc in seen)
    assert any("qwerty" in doc for doc in seen) == use_unsup
    from gensim.models.doc2vec import Doc2Vec

    model = Doc2Vec.load(feats.info["doc2vec_file"])
    assert "zyzzyva" not in model.wv.key_to_index and len(model.dv) == 20 + use_unsup
    # the pooled word vectors (8), then the paragraph vector (6)
    assert feats.x_train.shape == (20, 14) and feats.x_test.shape == (2, 14)


def test_paragraph_vectors_are_the_same_from_a_trained_or_a_cached_model(tmp_path, caplog):
    settings = VectorSettings(**DOCS, features="doc2vec")
    first = review_features(tmp_path, settings, tmp_path / "c", lambda _: _reviews(tmp_path))
    assert first.x_train.shape == (20, 6) and first.info["cache"] == "miss"
    # the review vectors gone, the model kept: inferred again from the loaded model
    for path in (tmp_path / "c").glob("reviews-*.pt"):
        path.unlink()
    with caplog.at_level(logging.INFO, logger="ff_lightning"):
        again = review_features(tmp_path, settings, tmp_path / "c", lambda _: _reviews(tmp_path))
    assert again.info["cache"] == "doc2vec" and "Doc2Vec training skipped" in caplog.text
    assert (again.x_train == first.x_train).all() and (again.x_test == first.x_test).all()
    # the same words give the same vector: inference depends on the text, not on its position
    assert (first.x_train[0] == first.x_train[2]).all()


def test_the_paragraph_vector_settings_change_the_review_key_only():
    from ff_lightning.data.text import doc_key

    words = VectorSettings()
    docs = dataclasses.replace(words, features="doc2vec")
    both = dataclasses.replace(words, features="both")
    assert len({review_key(s, "src") for s in (words, docs, both)}) == 3
    for name, value in {"doc_dim": 50, "doc_epochs": 5}.items():
        changed = dataclasses.replace(both, **{name: value})
        assert word_key(changed, "src") == word_key(words, "src")
        assert doc_key(changed, "src") != doc_key(both, "src")
        assert review_key(changed, "src") != review_key(both, "src")
    # the pooling of word vectors does not touch the paragraph vectors alone
    assert review_key(dataclasses.replace(docs, pooling="tfidf"), "src") == review_key(docs, "src")
    assert review_key(dataclasses.replace(both, pooling="tfidf"), "src") != review_key(both, "src")
