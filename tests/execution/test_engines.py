"""The supervised pool: same output as in-process, and a crash, segfault, hang or stage bug on
one record costs that record (rejected with reason and stage), never the batch or the run."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline.api import Pipeline
from pipeline.core.config import Config, FilterConfig
from pipeline.core.errors import WorkerError
from pipeline.core.record import Doc, docs_from_batch, docs_to_batch, reject_rows
from pipeline.core.stage import BatchedDocStage, DocStage, OnRecord, Stage
from pipeline.execution.chain import run_docs, run_in_order, run_stages
from pipeline.execution.engines import SerialEngine
from pipeline.execution.heartbeat import Heartbeat
from pipeline.execution.pool import ProcessEngine
from pipeline.execution.resources import auto_memory_limit, physical_memory, resident_bytes
from pipeline.execution.worker import recv_job, send_job
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import read_left
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from stages.boilerplate import learned
from stages.boilerplate import stage as bp_stage
from stages.boilerplate.stage import Boilerplate
from stages.encoding import FixEncoding
from stages.extract.extractor import Extract
from stages.language.detector import DetectLanguage
from tests.conftest import FIXTURES
from tests.hostile import (
    BUG,
    CRASH,
    HANG,
    HOG,
    OOM,
    POISON,
    SEGV,
    BatchBug,
    DiesOnArrival,
    Misbehave,
    PoisonsItsBatch,
)

TEXTS = [
    "The council approved the new budget on Monday after a long debate about school funding.",
    "Le conseil municipal a adopté le budget lundi après un long débat sur les écoles.",
    "Der Stadtrat hat am Montag nach langer Debatte den Haushalt für die Schulen beschlossen.",
    "cafÃ© owners say the new rules are unfair to small businesses in the old town",
]


def batch_of(texts: Sequence[str], start: int = 0) -> pa.RecordBatch:
    docs = [Doc(id=f"r{start + i}", source=f"t:{start + i}", raw=t) for i, t in enumerate(texts)]
    return docs_to_batch(docs)


def batches(n: int, texts: Sequence[str] = TEXTS) -> Iterator[pa.RecordBatch]:
    for b in range(n):
        yield batch_of(texts, start=b * len(texts))


def real_stages() -> list[Stage]:
    return [Extract(), FixEncoding(), DetectLanguage()]


@pytest.fixture()
def engine() -> Iterator[ProcessEngine]:
    eng = ProcessEngine(2, timeout_s=60.0)  # generous: a loaded CI box must not turn into timeouts
    yield eng
    eng.close()


def statuses(batch: pa.RecordBatch) -> list[tuple[str, str | None, str | None]]:
    return [(d.status.value, d.stage, d.reason) for d in docs_from_batch(batch)]


def test_pool_output_equals_in_process_output_in_input_order(engine: ProcessEngine) -> None:
    stages = real_stages()
    serial = [b for b, _ in SerialEngine().map(stages, batches(5))]
    pooled = [b for b, _ in engine.map(stages, batches(5))]
    assert len(pooled) == 5
    for a, b in zip(serial, pooled, strict=True):
        assert a.equals(b)
    assert [d.lang for d in docs_from_batch(pooled[0])][:3] == ["en", "fr", "de"]


def test_one_worker_pool_does_the_work_in_a_child_process() -> None:
    eng = ProcessEngine(1, timeout_s=5.0)
    try:
        out = [b for b, _ in eng.map(real_stages(), batches(3))]
        assert sum(b.num_rows for b in out) == 12
        assert all(p.process.pid for p in eng._pool)
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("marker", "reason", "detail"),
    [
        (CRASH, "worker_crash", "code 3"),
        (SEGV, "worker_crash", "SIGSEGV"),
        (OOM, "worker_crash", "SIGKILL (killed: out of memory?)"),
    ],
)
def test_a_worker_crash_costs_exactly_one_record(
    engine: ProcessEngine, marker: str, reason: str, detail: str
) -> None:
    texts = [*TEXTS[:2], f"{marker} {TEXTS[2]}", TEXTS[3]]
    stages = [Extract(), Misbehave(), DetectLanguage()]
    out = list(engine.map(stages, batches(2, texts)))
    assert len(out) == 2
    for batch, stats in out:
        docs = docs_from_batch(batch)
        assert [d.id for d in docs] == [f"r{i}" for i in range(int(docs[0].id[1:]), int(docs[0].id[1:]) + 4)]
        assert [d.raw for d in docs] == texts  # workers send no raw back: the pool puts it back
        assert [d.n_chars_raw for d in docs] == [len(t) for t in texts]
        bad = docs[2]
        assert (bad.status.value, bad.stage, bad.reason) == ("rejected", "misbehave", reason)
        assert detail in (bad.detail or "")
        assert all(d.ok for i, d in enumerate(docs) if i != 2)
        assert [d.lang for d in docs][:2] == ["en", "fr"]
        assert stats["misbehave"].rejected[reason] == 1
        assert stats["extract"].n_ok == 4
    assert engine.restarts == 2


def test_a_hanging_record_is_rejected_as_timeout_and_the_rest_completes() -> None:
    engine = ProcessEngine(2, timeout_s=2.0)
    texts = [TEXTS[0], f"{HANG} {TEXTS[1]}", f"{HANG} again", TEXTS[2]]
    try:
        ((batch, stats),) = list(engine.map([Extract(), Misbehave()], [batch_of(texts)]))
    finally:
        engine.close()
    assert statuses(batch) == [
        ("ok", None, None),
        ("rejected", "misbehave", "timeout"),
        ("rejected", "misbehave", "timeout"),
        ("ok", None, None),
    ]
    assert "2s" in (docs_from_batch(batch)[1].detail or "")
    assert stats["misbehave"].rejected["timeout"] == 2
    assert engine.restarts == 2


def test_a_worker_over_its_memory_limit_costs_the_record_it_was_on() -> None:
    if resident_bytes(os.getpid()) is None:
        pytest.skip("needs /proc")
    engine = ProcessEngine(1, timeout_s=60.0, memory_limit=800 << 20)  # the hog takes 1,200 MiB
    texts = [TEXTS[0], f"{HOG} {TEXTS[1]}", TEXTS[2]]
    try:
        ((batch, stats),) = list(engine.map([Misbehave()], [batch_of(texts)]))
    finally:
        engine.close()
    assert statuses(batch) == [
        ("ok", None, None),
        ("rejected", "misbehave", "memory_limit"),
        ("ok", None, None),
    ]
    assert "MiB > 800 MiB (run.max_worker_memory)" in (docs_from_batch(batch)[1].detail or "")
    assert stats["misbehave"].rejected["memory_limit"] == 1
    assert engine.restarts == 1


def test_the_memory_limit_is_a_share_of_the_machine_unless_set() -> None:
    auto = ProcessEngine(2, timeout_s=1.0, memory_limit=None).memory_limit
    assert auto == auto_memory_limit(2) >= 1 << 30
    if physical_memory():
        assert auto == max(1 << 30, int(physical_memory() * 0.8) // 2)
    assert ProcessEngine(2, timeout_s=1.0, memory_limit=0).memory_limit == 0  # no limit
    assert auto_memory_limit(10_000) == 1 << 30 or not physical_memory()  # never below 1 GiB


def test_a_batch_stage_that_raises_rejects_only_the_record_it_raised_on(engine: ProcessEngine) -> None:
    texts = [TEXTS[0], f"{BUG} here", TEXTS[1]]
    ((batch, _),) = list(engine.map([BatchBug()], [batch_of(texts)]))
    assert statuses(batch)[1] == ("rejected", "batchbug", "stage_error")
    assert "bug in a batch stage" in (docs_from_batch(batch)[1].detail or "")
    assert docs_from_batch(batch)[0].text == TEXTS[0].upper()
    assert engine.restarts == 0


def test_the_pool_keeps_working_across_map_calls_and_recovers_after_an_abandoned_map() -> None:
    engine = ProcessEngine(2, timeout_s=60.0)
    stages = [Extract(), Misbehave()]
    hanging = [batch_of(TEXTS), *(batch_of([f"{HANG} x", *TEXTS], start=5 * i) for i in range(1, 6))]
    it = engine.map(stages, hanging)
    next(it)  # abandon the generator with hanging work in flight
    del it
    out = [b for b, _ in engine.map(stages, batches(2))]
    engine.close()
    assert sum(b.num_rows for b in out) == 8
    assert all(s[0] == "ok" for b in out for s in statuses(b))


def test_reject_rows_keep_the_first_200_characters_of_the_raw_input() -> None:
    page = "é" * 150 + "😀" * 100
    bad = Doc(id="1", source="s", raw=page)
    bad.reject("extract", "empty", None)
    dropped = Doc(id="2", source="s", raw="short", url="https://x.example/2")
    dropped.drop_duplicate("near_dedup", "duplicate", "1", 1.0, "same text as 1")
    rows = reject_rows(docs_to_batch([bad, dropped])).to_pylist()
    assert rows[0]["raw_prefix"] == page[:200] and rows[0]["stage"] == "extract"
    assert rows[0]["dup_of"] is None and rows[0]["similarity"] is None
    assert rows[1] == {
        "id": "2",
        "source": "s",
        "stage": "near_dedup",
        "reason": "duplicate",
        "detail": "same text as 1",
        "raw_prefix": "short",
        "url": "https://x.example/2",
        "dup_of": "1",
        "similarity": 1.0,
    }


@pytest.mark.parametrize("n_batches", [1, 3])
def test_workers_that_cannot_start_fail_the_run_with_a_worker_error(n_batches: int) -> None:
    # Even with one batch: a worker that dies before it has started blames no record (the
    # batch is requeued, not rejected) and the run stops once five have died in a row.
    engine = ProcessEngine(1, timeout_s=60.0)
    try:
        with pytest.raises(WorkerError, match="before they process any record") as info:
            list(engine.map([DiesOnArrival()], batches(n_batches)))
        assert info.value.exit_code == 5
        assert "__main__" in (info.value.hint or "")
        assert engine.restarts == 4  # replaced four times; the fifth death stops the run
    finally:
        engine.close()


def test_a_batch_no_worker_survives_is_rejected_by_the_engine_and_the_run_accounts_for_it(
    tmp_path: Path,
) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    texts = [*TEXTS, f"{TEXTS[0]} {POISON}"]
    for i, text in enumerate(texts):
        (dump / f"{i}.txt").write_text(text, encoding="utf-8")
    (dump / "binary.txt").write_bytes(bytes(range(256)) * 40)  # rejected at read, in the same batch
    config = Config()
    out = tmp_path / "out"
    engine = ProcessEngine(1, timeout_s=60.0)
    try:
        report = Pipeline([PoisonsItsBatch()], config).run(
            Source([dump], config.reader), ParquetSink(out, config), engine=engine
        )
    finally:
        engine.close()
    assert engine.restarts == 3  # the batch's first try and its two retries
    assert report.tally.n_in == len(texts) + 1 == report.tally.n_rejected
    rows = read_left(OutputLayout(out).left("rejects")).to_pylist()
    rejects = {Path(r["source"]).name: (r["stage"], r["reason"]) for r in rows}
    assert rejects.pop("binary.txt") == ("read", "undecodable")  # its verdict stands
    assert set(rejects.values()) == {("engine", "worker_crash")} and len(rejects) == len(texts)
    assert report.stages["engine"].n_in == len(texts)


class Unpicklable(Extract):
    def __init__(self) -> None:
        super().__init__()
        self.hook = lambda x: x


def test_stages_that_cannot_be_pickled_fail_with_a_clear_worker_error() -> None:
    engine = ProcessEngine(1, timeout_s=60.0)
    try:
        with pytest.raises(WorkerError, match="cannot be sent to worker processes"):
            list(engine.map([Unpicklable()], batches(1)))
    finally:
        engine.close()


def test_verdict_stages_on_columns_give_what_they_give_on_docs() -> None:
    from stages.dedup import Dedup
    from stages.filters import MinLength

    texts = [
        "A long enough text about the harbour wall.",
        "",
        "short",
        "A long enough text about the harbour wall.",
    ]
    texts += ["Another long text about the new school.", "x" * 40]
    docs = [Doc(id=f"d{i}", source=f"s:{i}", raw=t) for i, t in enumerate(texts)]
    for d in docs:
        d.text = d.raw
    docs[5].reject("extract", "no_content")  # not ok: must be left alone
    batch = docs_to_batch(docs)

    class Boom(Dedup):
        def judge(self, fields: object) -> None:
            raise ValueError("bug")

    for make in (
        lambda: [Dedup(), MinLength(FilterConfig(10))],
        lambda: [MinLength(FilterConfig(10)), Dedup()],
        lambda: [Boom()],
    ):
        on_columns, stats_c = run_in_order(make(), batch)
        on_docs, stats_d = run_stages(make(), batch)
        assert on_columns.to_pylist() == on_docs.to_pylist()
        assert {k: (v.n_in, v.n_ok, v.rejected, v.dropped) for k, v in stats_c.items()} == {
            k: (v.n_in, v.n_ok, v.rejected, v.dropped) for k, v in stats_d.items()
        }
    outcome = [
        (r["status"], r["stage"], r["reason"])
        for r in run_in_order([Dedup(), MinLength(FilterConfig(10))], batch)[0].to_pylist()
    ]
    assert outcome == [
        ("ok", None, None),
        ("rejected", "filter", "empty_after_cleaning"),
        ("dropped", "filter", "too_short"),
        ("dropped", "dedup", "duplicate"),
        ("ok", None, None),
        ("rejected", "extract", "no_content"),
    ]


class _Log(Stage):
    """Appends ``(stage name, doc id)`` to a shared log; rejects the docs in ``reject``."""

    name = "a"

    def __init__(self, log: list[tuple[str, str]], reject: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.log, self.reject = log, reject

    def process_docs(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            if doc.ok:
                self.log.append((self.name, doc.id))
                self.stats.n_in += 1
                if doc.id in self.reject:
                    doc.reject(self.name, "test", None)


class _LogB(_Log):
    name = "b"


def test_a_batch_runs_stage_by_stage_and_a_rejected_record_skips_the_later_stages() -> None:
    log: list[tuple[str, str]] = []
    out, stats = run_stages([_Log(log, frozenset({"r1"})), _LogB(log)], batch_of(TEXTS[:3]))
    assert log == [("a", "r0"), ("a", "r1"), ("a", "r2"), ("b", "r0"), ("b", "r2")]
    assert statuses(out) == [("ok", None, None), ("rejected", "a", "test"), ("ok", None, None)]
    assert (stats["a"].n_in, stats["b"].n_in) == (3, 2)


class _Calls(DocStage):
    """Upper-cases each record, counts its ``process_docs`` calls, rejects a ``BUG`` record."""

    name = "calls"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process_docs(self, docs: Sequence[Doc], on_record: OnRecord | None = None) -> None:
        self.calls += 1
        super().process_docs(docs, on_record)

    def process(self, doc: Doc) -> None:
        if BUG in doc.raw:
            raise RuntimeError("bad record")
        doc.text = doc.raw.upper()


class _Beats(Heartbeat):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    def beat(self, record: int, stage: int) -> None:
        self.seen.append((record, stage))
        super().beat(record, stage)


def test_a_doc_stage_takes_the_batch_in_one_call_beating_on_each_record_it_starts() -> None:
    log: list[tuple[str, str]] = []
    calls, hb = _Calls(), _Beats()
    docs = docs_from_batch(batch_of(["one", f"two {BUG}", "three", "four"]))
    run_docs([_Log(log, frozenset({"r0"})), calls], docs, hb)
    assert calls.calls == 1
    # stage 0 (one record at a time) beats on every record; stage 1 on those still ok
    assert hb.seen == [(0, 0), (1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (3, 1)]
    assert [(d.status.value, d.stage, d.reason) for d in docs] == [
        ("rejected", "a", "test"),
        ("rejected", "calls", "stage_error"),
        ("ok", None, None),
        ("ok", None, None),
    ]
    assert [d.text for d in docs[2:]] == ["THREE", "FOUR"]
    assert calls.stats.n_in == 3


def test_boilerplate_scores_a_batch_with_one_model_call_and_the_same_result_as_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    articles = sorted((FIXTURES / "boilerplate" / "articles").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in articles if not p.name.endswith(".gold.txt")]
    assert len(texts) >= 3
    stage = Boilerplate()
    alone = [Doc(id=str(i), source="s", raw=t, text=t) for i, t in enumerate(texts)]
    for doc in alone:
        stage.process_docs([doc])
    calls: list[int] = []
    real = learned.decide

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(bp_stage, "decide", counted)
    together = [Doc(id=str(i), source="s", raw=t, text=t) for i, t in enumerate(texts)]
    run_docs([stage], together)
    assert calls == [len(texts)]
    assert [d.text for d in together] == [d.text for d in alone]
    assert [d.removed for d in together] == [d.removed for d in alone]
    assert any(d.removed for d in together)


class _Lengths(BatchedDocStage[str, int]):
    """Each record's text length, answered in batches; a record whose text says BUG fails alone
    when its batch fails."""

    name = "lengths"

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def prepare(self, doc: Doc) -> str | None:
        return doc.raw

    def answer_all(self, items: Sequence[str]) -> list[int]:
        self.sizes.append(len(items))
        if len(items) > 1 and any(BUG in item for item in items):
            raise RuntimeError("a batch with a bad record")
        if any(BUG in item for item in items):
            raise RuntimeError("the bad record")
        return [len(item) for item in items]

    def finish(self, doc: Doc, item: str, answer: int) -> None:
        doc.text = str(answer)


def test_a_batched_stage_answers_at_most_its_chunk_at_once_and_a_failing_chunk_record_by_record() -> None:
    stage = _Lengths()
    raws = [f"record {i}" if i != 300 else f"record {i} {BUG}" for i in range(600)]
    docs = [Doc(id=str(i), source="s", raw=r) for i, r in enumerate(raws)]
    run_docs([stage], docs)
    # 256 + 256 + 88: the second chunk fails as a whole (record 300), then goes one by one
    assert stage.sizes[:2] == [256, 256] and stage.sizes[-1] == 88
    assert stage.sizes[2:-1] == [1] * 256
    assert [(d.status.value, d.reason) for d in docs if not d.ok] == [("rejected", "stage_error")]
    assert docs[300].stage == "lengths"
    assert [d.text for d in docs[:2]] == ["8", "8"] and docs[599].text == str(len(raws[599]))
    assert stage.stats.n_in == 600


def test_a_job_reaches_its_worker_whole_as_an_arrow_stream() -> None:
    """send_job writes the job's number and the batch as an IPC stream; recv_job gives back the
    same number and an equal batch, and None once the supervisor says stop or is gone. (The
    page stays under a socket buffer: here one thread both writes and reads.)"""
    docs = [
        Doc(id="a", source="s", raw="<html><body><p>Pier reopens</p></body></html>" * 300, format="html"),
        Doc(id="b", source="s", raw="Short text.", text="Short text."),
    ]
    batch = docs_to_batch(docs)
    parent, child = mp.Pipe()
    send_job(parent, 7, batch)
    got = recv_job(child)
    assert got is not None and got[0] == 7 and got[1].equals(batch)
    parent.send(None)
    assert recv_job(child) is None
    parent.close()
    assert recv_job(child) is None


def test_a_worker_whose_supervisor_is_gone_stops_quietly() -> None:
    """A supervisor killed (SIGKILL) while its worker runs a batch: the worker's result has nowhere
    to go. It ends without raising, so multiprocessing prints no traceback for it."""
    import pickle
    import signal
    import threading

    from pipeline.execution.worker import READY, worker_main

    parent, child = mp.Pipe()

    def supervisor() -> None:
        assert parent.recv() == READY
        send_job(parent, 0, next(batches(1)))
        parent.close()  # gone before the result comes back

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=supervisor)
    thread.start()
    try:
        worker_main(child, pickle.dumps(real_stages()), Heartbeat().cells)  # returns, raises nothing
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        thread.join(30)
    assert not thread.is_alive()
