"""Records to Arrow work batches (:mod:`pipeline.core.batching`): lone surrogates and NULs are
sanitized at the boundary, clean records are converted as they are, and batches close at the
record count or the character budget."""

from __future__ import annotations

import pytest

from pipeline.core.batching import batched, has_nul, make_safe, safe_batch
from pipeline.core.record import Doc, Removal, docs_to_batch, safe_str
from pipeline.execution.chain import run_stages
from stages.extract.extractor import Extract


def test_lone_surrogates_and_nuls_are_sanitized_at_the_batch_boundary() -> None:
    doc = Doc(id="a\ud800", source="s\x00", raw="x\udcff y", url="u\ud83d")
    doc.title = "t\x00"
    make_safe(doc)
    batch = docs_to_batch([doc])  # would raise on a lone surrogate
    row = batch.to_pylist()[0]
    assert row["id"] == "a\ufffd" and row["source"] == "s" and row["raw"] == "x\ufffd y"
    assert row["title"] == "t" and row["url"] == "u\ufffd"
    assert safe_str("fine") == "fine"
    out, _ = run_stages([Extract()], docs_to_batch([Doc(id="1", source="s", raw="ok text")]))
    assert out.num_rows == 1


@pytest.mark.parametrize(
    "field, bad",
    [
        ("text", "body\x00"),
        ("raw", "x\udcff y"),
        ("snippet", "cut\x00"),  # nested: list<struct<..., snippet>>
        ("extra", "v\x00"),  # nested: map<string, string>
        ("flags", "f\ud800"),  # nested: list<string>
    ],
)
def test_safe_batch_converts_clean_docs_as_they_are_and_sanitizes_any_string_field(
    field: str, bad: str
) -> None:
    def doc() -> Doc:
        d = Doc(id="1", source="s", raw="<p>page</p>", text="body")
        d.removed = [Removal("r", "c", 0, 3, "cut")]
        d.passthrough = {"k": "v"}
        d.flags = ["f"]
        return d

    clean = safe_batch([doc()])
    assert not has_nul(clean) and clean.to_pylist()[0]["text"] == "body"
    dirty = doc()
    if field == "snippet":
        dirty.removed = [Removal("r", "c", 0, 3, bad)]
    elif field == "extra":
        dirty.passthrough = {"k": bad}
    elif field == "flags":
        dirty.flags = [bad]
    else:
        setattr(dirty, field, bad)
    if "\x00" in bad:  # what the fast path checks: NULs in the converted bytes
        assert has_nul(docs_to_batch([dirty]))
    else:  # and lone surrogates, which the conversion refuses
        with pytest.raises(UnicodeEncodeError):
            docs_to_batch([dirty])
    row = safe_batch([dirty]).to_pylist()[0]
    values = {
        "text": row["text"],
        "raw": row["raw"],
        "snippet": row["removed"][0]["snippet"],
        "extra": dict(row["extra"])["k"],
        "flags": row["flags"][0],
    }
    assert values[field] == safe_str(bad) and "\x00" not in values[field]


def test_batches_close_at_the_record_count_or_the_character_budget() -> None:
    docs = [Doc(id=str(i), source="s", raw="x" * n) for i, n in enumerate([10, 10, 10, 50, 5, 5])]
    assert [b.num_rows for b in batched(docs, 3, 25)] == [3, 1, 2]
    assert [b.num_rows for b in batched(docs, 3)] == [3, 3]
    assert [b.num_rows for b in batched(docs, 64, 1)] == [1] * 6


def test_a_removal_is_immutable_and_equal_by_its_fields() -> None:
    removal = Removal("r", "c", 0, 3, "cut")
    with pytest.raises(AttributeError):
        removal.start = 1  # type: ignore[misc]
    assert removal == Removal("r", "c", 0, 3, "cut", None) and hash(removal) == hash(
        Removal("r", "c", 0, 3, "cut")
    )
    assert removal._replace(score=0.5).score == 0.5 and removal._asdict()["snippet"] == "cut"
