"""``Pipeline.process_batch`` as an ETL job or a Ray/Airflow task uses it: repeated ids, a batch
given twice, a pickled pipeline, and threads."""

from __future__ import annotations

import json
import pickle
import threading
from collections import Counter
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pytest

from pipeline import CleanwireError, Config, Pipeline
from pipeline.core.record import Doc
from pipeline.core.stage import DocStage
from pipeline.execution.engines import SerialEngine
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from stages import Extract

FERRY = (
    "Ferry service returns to Kestrel Bay\n\n"
    "The island ferry resumed sailings on Saturday after a six-week suspension caused by a damaged "
    "ramp, the operator said, and timetables for the summer season will be published next week."
)
LIBRARY = (
    "Council backs library roof repair\n\n"
    "The town council voted on Tuesday to repair the leaking roof of the old library before winter, "
    "after readers complained for months that buckets stood between the shelves of the reading room."
)


def feed(rows: list[tuple[str, str]], source: str = "feed") -> pa.Table:
    return pa.table({"id": [i for i, _ in rows], "source": [source] * len(rows), "raw": [t for _, t in rows]})


def verdicts(out: pa.Table) -> list[tuple[str, str, str | None, str | None]]:
    cols = (out.column(n).to_pylist() for n in ("id", "status", "stage", "reason"))
    return list(zip(*cols, strict=True))


def test_a_repeated_id_in_a_batch_is_rejected_before_any_stage_as_the_cli_does(tmp_path: Path) -> None:
    """Two rows with id ``x`` (the second a different story) and ``y``, the second story's own
    record. Unchecked, both ``x`` were kept and near_dedup dropped ``y`` as a copy of "x": the
    story's one valid record was lost, and the output held two records of one id."""
    rows = [("x", FERRY), ("x", LIBRARY), ("y", LIBRARY)]
    pipe = Pipeline.from_config()
    out = pipe.process_batch(feed(rows))
    assert verdicts(out) == [
        ("x", "ok", None, None),
        ("x", "rejected", "read", "duplicate_id"),
        ("y", "ok", None, None),
    ]
    assert out.column("detail")[1].as_py() == "id 'x' already used by an earlier record"
    # the stages never saw the repeat: their counts are the CLI's (n_in = 2 everywhere)
    assert {name: st.n_in for name, st in pipe.stats().items()} == dict.fromkeys(pipe.stats(), 2)
    # the same rows through the runner cleanwire run uses (one input file): the same verdicts
    (tmp_path / "feed.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in rows))
    report = Pipeline.from_config().run(
        Source(tmp_path / "feed.jsonl"), ParquetSink(tmp_path / "out", Config()), engine=SerialEngine()
    )
    tally = report.tally.to_dict()
    assert (tally["n_kept"], tally["rejected"], tally["dropped"]) == (2, {"read/duplicate_id": 1}, {})


def test_ids_are_unique_per_source_and_a_record_not_ok_keeps_its_verdict() -> None:
    batch = pa.concat_tables([feed([("1", FERRY)], "site-a"), feed([("1", LIBRARY)], "site-b")])
    assert [v[1] for v in verdicts(Pipeline.from_config().process_batch(batch))] == ["ok", "ok"]
    marked = feed([("x", FERRY), ("x", LIBRARY)]).append_column("status", pa.array(["rejected", "ok"]))
    marked = marked.append_column("stage", pa.array(["upstream", None])).append_column(
        "reason", pa.array(["bad", None])
    )
    # the first x was rejected upstream: the second is still a repeat, and the first keeps its reason
    assert verdicts(Pipeline([Extract()]).process_batch(marked)) == [
        ("x", "rejected", "upstream", "bad"),
        ("x", "rejected", "read", "duplicate_id"),
    ]


def test_the_same_batch_twice_and_a_pickled_pipeline_give_the_same_output() -> None:
    batch = feed([("a", FERRY), ("b", LIBRARY), ("c", FERRY), ("a", LIBRARY)])
    pipe = Pipeline.from_config()
    first = pipe.process_batch(batch)
    assert [v[1:] for v in verdicts(first)] == [
        ("ok", None, None),
        ("ok", None, None),
        ("dropped", "near_dedup", "duplicate"),
        ("rejected", "read", "duplicate_id"),
    ]
    assert pipe.process_batch(batch).equals(first)  # a retried task: same verdicts
    shipped = pickle.loads(pickle.dumps(Pipeline.from_config()))  # to a Ray worker, through XCom
    assert shipped.process_batch(batch).equals(first)


class Holds(DocStage):
    """Blocks on the record ``wait`` until released: a batch still in progress in one thread."""

    name = "holds"
    entered: ClassVar[threading.Event]
    release: ClassVar[threading.Event]

    def process(self, doc: Doc) -> None:
        if doc.id == "wait":
            type(self).entered.set()
            assert type(self).release.wait(30)


class Remembers(DocStage):
    """A stateful stage (near_dedup's kind): one batch at a time, in order."""

    name = "remembers"
    parallel_safe = False

    def process(self, doc: Doc) -> None:
        pass


@pytest.mark.parametrize("stateful", [True, False])
def test_a_second_batch_from_another_thread_is_refused_only_by_a_stateful_chain(stateful: bool) -> None:
    """Interleaved from threads, near_dedup's index broke (sqlite errors, lost batches); now the
    second call says why. A chain of parallel-safe stages (clean_text's) stays free to share."""
    Holds.entered, Holds.release = threading.Event(), threading.Event()
    pipe = Pipeline([Extract(), Holds(), *([Remembers()] if stateful else [])])
    results: list[pa.Table] = []
    worker = threading.Thread(target=lambda: results.append(pipe.process_batch(feed([("wait", FERRY)]))))
    worker.start()
    try:
        assert Holds.entered.wait(30)
        if stateful:
            with pytest.raises(CleanwireError, match="already in a run or a batch") as info:
                pipe.process_batch(feed([("go", LIBRARY)]))
            assert "one pipeline per thread" in (info.value.hint or "")
        else:
            assert verdicts(pipe.process_batch(feed([("go", LIBRARY)])))[0][1] == "ok"
    finally:
        Holds.release.set()
        worker.join(30)
    assert [verdicts(t)[0][1] for t in results] == ["ok"]
    counts = Counter(v[1] for v in verdicts(pipe.process_batch(feed([("later", LIBRARY)]))))
    assert counts == {"ok": 1}  # once the first call is over: one after the other is fine
