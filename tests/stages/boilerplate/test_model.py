"""The learned model's artifact and inference: numpy only, no pickle, same scores in any batch."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from stages.boilerplate.codes import Prefix, norm_unit
from stages.boilerplate.dense import DENSE, dense_features
from stages.boilerplate.features import FeatureSpec, hashed_features
from stages.boilerplate.learned import BUILTIN_MODEL, load_model
from stages.boilerplate.model import Batch, LineModel, ModelError, sigmoid
from stages.boilerplate.units import text_units

DOC = (
    "Menu | News | Sport | Weather\n"
    "Council approves new budget for the harbour\n"
    "The council approved the budget on Tuesday night after a long debate.\n"
    "Get our free weekly briefing straight to your inbox – sign up here »\n"
    "Officers said the shortfall had grown once energy costs were included.\n"
)


@pytest.fixture(scope="module")
def builtin() -> LineModel:
    model = load_model("builtin")
    assert model is not None
    return model


def test_the_builtin_artifact_is_small_and_holds_no_pickle(builtin: LineModel) -> None:
    assert BUILTIN_MODEL.stat().st_size < 5_000_000
    with zipfile.ZipFile(BUILTIN_MODEL) as zf:
        for name in zf.namelist():
            header = zf.read(name)[:128]
            assert header.startswith(b"\x93NUMPY") and b"'O'" not in header  # no object arrays
    with np.load(BUILTIN_MODEL, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
    assert meta["spec"]["dense"] == list(DENSE)
    assert builtin.version == meta["spec"]["version"]


def test_normalisation_unifies_typographic_variants() -> None:
    assert norm_unit("“SIGN UP” — 2024…") == norm_unit('"sign up" - 0000...')
    assert norm_unit("• Read more ›") == "read more >"


def test_a_document_scores_the_same_alone_and_in_any_batch(builtin: LineModel) -> None:
    units = [u.text for u in text_units(DOC, html=False)]
    other = ["Another story", "With its own lines, of course.", "Follow us on Instagram"]
    alone = builtin.scores(units)
    together = builtin.scores_many([(other, True), (units, False), (other[:1], False)])
    assert np.array_equal(alone, together[1])
    mask = np.array([True, False, True, False, True])
    masked = builtin.scores_many([(units, False)], [mask])[0]
    assert np.array_equal(masked[mask], alone[mask]) and not masked[~mask].any()


def test_the_model_tells_a_call_to_action_from_article_sentences(builtin: LineModel) -> None:
    units = [u.text for u in text_units(DOC, html=False)]
    p = builtin.scores(units)
    assert p[3] >= 0.85  # "Get our free weekly briefing ..."
    assert p[2] < 0.5 and p[4] < 0.5  # the article's sentences


def test_units_longer_than_the_model_reads_score_zero(builtin: LineModel) -> None:
    long = "Subscribe now! " * 20
    assert len(long) > builtin.spec.max_line_chars
    assert builtin.scores([long, "Subscribe now!"])[0] == 0.0


def test_save_then_load_gives_the_same_bytes_and_scores(builtin: LineModel, tmp_path: Path) -> None:
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    builtin.save(a)
    again = LineModel.load(a)
    again.save(b)
    assert a.read_bytes() == b.read_bytes()
    units = [u.text for u in text_units(DOC, html=False)]
    assert np.array_equal(again.scores(units), builtin.scores(units))


def test_a_file_that_is_not_a_model_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"bad\.npz"):
        LineModel.load(bad)
    spec = FeatureSpec(bits=8)
    wrong = LineModel(spec, np.zeros(1 << 7, dtype=np.float32), np.zeros(len(DENSE), np.float32), 0.0)
    wrong.save(bad)
    with pytest.raises(ModelError, match="do not match"):
        LineModel.load(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, meta=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ModelError):
        LineModel.load(pickled)


def test_a_model_trained_before_a_dense_feature_was_added_runs_on_the_columns_it_knows(
    tmp_path: Path,
) -> None:
    """A model file names its dense features: one written before a feature was added to
    :data:`DENSE` (as users' own models would be) loads, and reads exactly its own columns."""
    old_dense = tuple(name for name in DENSE if name not in ("share_short_near", "log_lines_doc"))
    spec = FeatureSpec(bits=8, dense=old_dense)
    rng = np.random.default_rng(0)
    old = LineModel(
        spec,
        rng.normal(size=1 << 8).astype(np.float32),
        rng.normal(size=len(old_dense)).astype(np.float32),
        0.1,
    )
    path = tmp_path / "old.npz"
    old.save(path)
    loaded = LineModel.load(path)
    units = [u.text for u in text_units(DOC, html=False)]
    batch = Batch.of([(units, False)])
    hashed, dense = loaded.features(batch)
    z = np.bincount(hashed.rows, weights=loaded.w_hash[hashed.cols] * hashed.vals, minlength=len(units))
    picked = dense[:, [DENSE.index(name) for name in old_dense]].astype(np.float64)
    expected = sigmoid(z + ((picked * loaded.w_dense.astype(np.float64)).sum(axis=1) + 0.1))
    assert np.array_equal(loaded.scores(units), expected)
    unknown = LineModel(
        FeatureSpec(bits=8, dense=(*old_dense, "no_such_feature")),
        old.w_hash,
        np.zeros(len(old_dense) + 1, np.float32),
        0.0,
    )
    unknown.save(path)
    with pytest.raises(ModelError, match="no_such_feature"):
        LineModel.load(path)


def test_hashing_does_not_depend_on_the_process() -> None:
    h = hashed_features(["Sign up to our newsletter"], FeatureSpec())
    assert (
        h.cols[:4].tolist() == hashed_features(["Sign up to our newsletter"], FeatureSpec()).cols[:4].tolist()
    )
    assert int(h.cols.sum()) == EXPECTED_HASH_SUM


#: Pinned: a change to the normalisation or the hashing would silently invalidate every trained model.
EXPECTED_HASH_SUM = 6597692


def test_sigmoid_of_extreme_scores_warns_not() -> None:
    # a model fitted on a handful of documents scores far beyond exp's range
    z = np.array([-1e6, -800.0, 0.0, 800.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = sigmoid(z)
    assert p[2] == 0.5 and p[0] < 1e-300 and p[-1] == 1.0 and np.all(np.diff(p) >= 0)


def test_shape_features_of_the_rows_needed_are_those_of_all_rows() -> None:
    """The model computes the character-level shape features only for the units it scores: those
    rows must equal the full computation (every pattern stops at the line between two units)."""
    units = [
        "Updated 12:30, 3/4/2024",
        "(c) 2024 Example Ltd.",
        "Email me@example.com or @handle #tag",
        "Read more...",
        "[VIDEO]",
        "x",
        "..",
        "A plain sentence of prose, with a comma.",
        "www.example.com/page.html",
        "ÉTÉ 2019 – Ça va?",
        "1",
        "20",
    ]
    doc = np.asarray([0] * 7 + [1] * 5, dtype=np.int64)
    full = dense_features(units, [False, True], doc)
    for seed in range(5):
        need = np.random.default_rng(seed).random(len(units)) < 0.5
        part = dense_features(units, [False, True], doc, need=need)
        assert np.array_equal(full[need], part[need])
    assert np.array_equal(
        full, dense_features(units, [False, True], doc, need=np.ones(len(units), dtype=bool))
    )


def test_dup_in_doc_is_a_unit_that_occurs_again_in_its_document() -> None:
    # the same length is not the same text, and a copy in another document does not count
    units = ["Share", "Share", "Print", "Home", "Share", "Print", "Menu", "Print", "Home"]
    doc = np.asarray([0, 0, 0, 0, 1, 1, 1, 2, 2], dtype=np.int64)
    column = dense_features(units, [False, False, False], doc)[:, DENSE.index("dup_in_doc")]
    expected = [
        sum(u == v and d == e for v, e in zip(units, doc, strict=True)) > 1
        for u, d in zip(units, doc, strict=True)
    ]
    assert column.tolist() == [float(x) for x in expected] == [1, 1, 0, 0, 0, 0, 0, 0, 0]


def test_the_category_head_answers_each_unit_as_scored_alone(builtin: LineModel) -> None:
    """categories_of picks the units' features out of a batch of several documents and sums every
    category at once: each answer is the arg-max of the head's scores for that unit alone."""
    head = builtin.category_head
    assert head is not None
    docs = [
        ([u.text for u in text_units(text, html=False)], False)
        for text in (
            DOC,
            DOC.replace("Menu", "Home"),
            "Share this article on Facebook\nRead more: Budget row\n",
        )
    ]
    batch = Batch.of(docs)
    hashed, dense = builtin.features(batch)
    rows = np.arange(len(batch.units))
    names = builtin.categories_of(batch, hashed, dense, rows)
    for row, name in zip(rows.tolist(), names, strict=True):
        alone = hashed_features([batch.units[row]], builtin.spec)
        cols = alone.cols >> (builtin.spec.bits - head.bits)
        z = [
            float(dense[row, builtin.dense_columns].astype(np.float64) @ head.w_dense[k].astype(np.float64))
            + float(head.bias[k])
            + float(np.sum((head.w_hash[k, cols] * alone.vals).astype(np.float64)))
            for k in range(len(head.categories))
        ]
        assert name == head.categories[int(np.argmax(z))]
    assert len(set(names)) > 1  # the units get different answers


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prefix_windows_are_the_spans_of_every_slice(k: int) -> None:
    """The n-gram hashes read off slices of the prefix sums are :meth:`Prefix.spans` of each
    ``k``-slice, in order (the features hash them so)."""
    codes = np.frombuffer("Harbour wall — repaired, ça va\nWatch now".encode("utf-32-le"), dtype=np.uint32)
    prefix = Prefix(codes)
    starts = np.arange(len(codes) - k + 1, dtype=np.intp)
    salt = 0x9E3779B97F4A7C15
    expected = prefix.spans(starts, starts + k, np.full(len(starts), salt, dtype=np.uint64))
    assert prefix.windows(k, salt).tolist() == expected.tolist()
