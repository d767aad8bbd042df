"""Composition: a :class:`Pipeline` is an ordered list of stages, runnable on one document, one
batch, or a whole source into a sink (through an engine)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa

from pipeline.core.config import Config
from pipeline.core.errors import CleanwireError, ConfigError
from pipeline.core.record import (
    HTML_SNIFF_CHARS,
    Doc,
    Removal,
    Status,
    docs_from_batch,
    docs_to_batch,
    make_id,
    raw_format,
    safe_str,
)
from pipeline.core.stage import Stage, StageStats, same_kind, split_parallel
from pipeline.execution.engines import Engine
from pipeline.execution.runner import Runner, RunReport, unique_ids
from pipeline.io.formats.decoding import Undecodable, charset_from_markup, decode
from pipeline.io.readers import Source
from pipeline.io.sinks.base import Sink
from stages.registry import build_stages, configured_chain, describe


@dataclass(frozen=True)
class Cleaned:
    """The typed result of cleaning one document."""

    text: str
    status: str
    lang: str
    lang_prob: float
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    removed: tuple[Removal, ...] = ()
    encoding_fixes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    stage: str | None = None
    reason: str | None = None
    detail: str | None = None
    #: How the input was read: ``html`` (extracted) or ``text``.
    format: str = "text"
    #: The codec bytes given to :func:`clean_text` were decoded with (None for a ``str``).
    encoding: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == Status.OK.value

    @classmethod
    def from_doc(cls, doc: Doc) -> Cleaned:
        return cls(
            text=doc.text,
            status=doc.status.value,
            lang=doc.lang,
            lang_prob=doc.lang_prob,
            title=doc.title,
            author=doc.author,
            date=doc.date,
            sitename=doc.sitename,
            removed=tuple(doc.removed),
            encoding_fixes=tuple(doc.encoding_fixes),
            flags=tuple(doc.flags),
            stage=doc.stage,
            reason=doc.reason,
            detail=doc.detail,
            format=doc.format,
            encoding=doc.encoding,
        )


@dataclass
class Pipeline:
    """Stages in order. ``Pipeline.from_config(cfg)`` builds the configured default chain."""

    stages: Sequence[Stage]
    config: Config = field(default_factory=Config)

    def __post_init__(self) -> None:
        if isinstance(self.stages, str | bytes) or not isinstance(self.stages, Sequence):
            raise TypeError(f"Pipeline takes a list of stage objects, not {type(self.stages).__name__}")
        for stage in self.stages:
            if not isinstance(stage, Stage):
                named = f" (a stage name: {stage!r})" if isinstance(stage, str) else ""
                raise TypeError(
                    f"Pipeline takes stage objects such as stages.Extract(), not {type(stage).__name__}{named}; "
                    'for a chain of stage names use Pipeline.from_config(cfg.with_overrides({"stages": [...]}))'
                )
            if not isinstance(getattr(stage, "name", None), str) or not stage.name:
                raise TypeError(
                    f"stage {type(stage).__name__} has no name: give the class one, e.g. name = 'my_stage' "
                    "(the stage of its rejects and its key in the manifest)"
                )
        names = [stage.name for stage in self.stages]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ConfigError(
                f"two stages of the pipeline are named {twice[0]!r}: their rejects and counts would be mixed up",
                hint="give each stage class its own name",
            )
        _check_config(self.config, "Pipeline")

    @classmethod
    def from_config(cls, config: Config | None = None) -> Pipeline:
        cfg = Config() if config is None else _check_config(config, "Pipeline.from_config")
        return cls(build_stages(cfg), cfg)

    @property
    def chain(self) -> list[str]:
        """The stages that run, in order, as ``module.Class:name``."""
        return [describe(type(s), s.name) for s in self.stages]

    @property
    def run_hash(self) -> str:
        """What an output made by this pipeline is made of: the config's hash when the stages are
        the chain the config builds, else a hash of both (custom stages, another order), so a
        run never resumes into, or counts as up to date, an output made by another chain."""
        chain = self.chain
        if chain == configured_chain(self.config):
            return self.config.hash
        blob = json.dumps([self.config.hash, chain], separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def parallel_prefix(self) -> list[Stage]:
        """The leading stages that may run in worker processes (until the first stateful one)."""
        return split_parallel(self.stages)[0]

    @property
    def serial_suffix(self) -> list[Stage]:
        return split_parallel(self.stages)[1]

    def process_docs(self, docs: Sequence[Doc]) -> None:
        """Every stage over ``docs``, in place. A chain with a stateful stage (near_dedup) takes
        one call or run at a time: a second one from another thread while one is going raises
        :class:`CleanwireError` (interleaved, the stage's index would be corrupted); a chain of
        parallel-safe stages only (what :func:`clean_text` runs) may be called from many threads."""
        with _in_use([stage for stage in self.stages if not stage.parallel_safe]):
            for stage in self.stages:
                stage.process_docs(docs)

    def process_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
        """Every stage over one Arrow batch, in this process: same rows, same order, a table for a
        table, always in the full :data:`~pipeline.core.schema.WORK_SCHEMA`. The input needs ``id``,
        ``source`` and ``raw`` (non-null strings); the other work-schema columns are optional and
        columns outside it are not carried over, as for :meth:`Stage.process_batch
        <pipeline.core.stage.Stage.process_batch>`. A batch that does not fit raises
        :class:`ValueError` naming the column and the problem.

        A row whose ``id`` an earlier row of the batch with the same ``source`` already has is
        rejected ``read/duplicate_id`` before any stage sees it, as ``cleanwire run`` rejects one
        within an input file (see :func:`_reject_repeated_ids`). Ids are not remembered across
        calls: the same batch given twice comes out the same."""
        docs = docs_from_batch(batch)
        _reject_repeated_ids(docs)
        self.process_docs(docs)
        return same_kind(docs_to_batch(docs), batch)

    def clean_doc(self, doc: Doc) -> Doc:
        self.process_docs([doc])
        return doc

    def stats(self) -> dict[str, StageStats]:
        return {s.name: s.stats for s in self.stages}

    def run(self, source: Source, sink: Sink, *, engine: Engine | None = None) -> RunReport:
        """Read ``source``, run the stages, write ``sink``: one run at a time per pipeline (its
        stages hold a run's state, e.g. the near-duplicate index): a second run of the same
        stages while one is going, from another thread, raises :class:`CleanwireError`. The sink
        must be made with the same settings (``ParquetSink(out, pipe.config)``): its partitions
        and resume state follow its config, the manifest the pipeline's; only the execution
        settings (``run.*``, outside the config hash) may differ."""
        if not isinstance(source, Source):
            given = f"a path: Source([{source!r}])" if isinstance(source, str) else type(source).__name__
            raise TypeError(
                f"Pipeline.run(source, sink) takes a pipeline.io.readers.Source first, not {given}"
            )
        theirs = getattr(sink, "config", None)
        if theirs is not None and not isinstance(theirs, Config):
            raise TypeError(
                f"the sink was made with a {type(theirs).__name__}, not a pipeline.Config: make it with the "
                "pipeline's config, e.g. ParquetSink(out, pipe.config)"
            )
        if isinstance(theirs, Config) and theirs.hash != self.config.hash:
            raise ConfigError(
                "the sink was made with other settings than the pipeline's: the output would not be what the manifest says",
                hint="make the sink with the pipeline's config, e.g. ParquetSink(out, pipe.config)",
            )
        with _in_use(self.stages):
            return Runner(self.stages, self.config, run_hash=self.run_hash, engine=engine).run(source, sink)


def _reject_repeated_ids(docs: Sequence[Doc]) -> None:
    """Reject (``read/duplicate_id``) each record whose ``id`` an earlier one of ``docs`` from the
    same ``source`` already has, first wins, as ``cleanwire run``'s reader check
    (:func:`~pipeline.execution.runner.unique_ids`) does within an input file: ids given by an
    input are unique only within their source. Left in, a repeated id could be the copy
    near_dedup keeps, and the story's record with its own id be dropped as its duplicate."""
    by_source: dict[str, list[Doc]] = {}
    for doc in docs:
        by_source.setdefault(doc.source, []).append(doc)
    for group in by_source.values():
        for _ in unique_ids(group):  # marks the repeats in place
            pass


def _check_config(config: object, caller: str, *, validate: bool = True) -> Config:
    """``config`` when it is a :class:`Config`, else a :class:`TypeError` that says how to make
    one; ``validate``: checked as a file is (a ``Config(...)`` built in Python has not been: a list
    of stages, a string for a number, an unknown stage raise :class:`ConfigError` naming the key)."""
    if not isinstance(config, Config):
        hint = " (Config.from_dict(data) builds one from plain data)" if isinstance(config, dict) else ""
        raise TypeError(f"{caller} takes a pipeline.Config, not {type(config).__name__}{hint}")
    if validate:
        config.validate()
    return config


_RUNNING: set[int] = set()  # ids of the stage objects of the runs going on in this process
_RUNNING_LOCK = threading.Lock()


@contextmanager
def _in_use(stages: Sequence[Stage]) -> Iterator[None]:
    """Mark ``stages`` as in a run for its length; refuse stages already in one."""
    ids = {id(stage) for stage in stages}
    with _RUNNING_LOCK:
        if ids & _RUNNING:
            raise CleanwireError(
                "these stages are already in a run or a batch (in another thread): a pipeline with a "
                "stateful stage such as near_dedup runs one run or batch at a time",
                hint="build one pipeline per thread (Pipeline.from_config(cfg) in each), or run them one after the other",
            )
        _RUNNING.update(ids)
    try:
        yield
    finally:
        with _RUNNING_LOCK:
            _RUNNING.difference_update(ids)


def clean_text(
    raw: str | bytes, *, url: str | None = None, fmt: str = "auto", config: Config | None = None
) -> Cleaned:
    """Clean one document with the configured stages (dedup is meaningless for one doc).

    ``fmt`` is ``"auto"`` (the default: HTML when ``raw`` :func:`looks like HTML
    <pipeline.core.record.looks_like_html>`, a page or a fragment of markup, else text),
    ``"html"`` or ``"text"``; any other value raises :class:`ValueError`. ``raw`` may be bytes:
    they are decoded as the readers decode a file (BOM, the page's ``<meta charset>``, UTF-8,
    detection; the codec is in ``Cleaned.encoding``), and bytes that are no text (binary) come
    back rejected by stage ``read`` (``undecodable``), as a reader would reject them. Anything
    else raises :class:`TypeError`. ``Cleaned.format`` says how the input was read."""
    if not isinstance(raw, str | bytes | bytearray):
        raise TypeError(f"clean_text takes a str or bytes, not {type(raw).__name__}")
    if url is not None and not isinstance(url, str):
        raise TypeError(f"clean_text's url is a str or None, not {type(url).__name__}")
    # validated by _pipeline_for when it builds the config's pipeline (a config it has already
    # built one for has the same content: a validation each call would cost ~1 ms)
    pipe = _pipeline_for(Config() if config is None else _check_config(config, "clean_text", validate=False))
    raw_format("", fmt)  # an unknown fmt raises ValueError, whatever raw is
    encoding = None
    if isinstance(raw, bytes | bytearray):
        data = bytes(raw)
        sniffed = fmt if fmt != "auto" else raw_format(data[:HTML_SNIFF_CHARS].decode("latin-1"), "auto")
        try:
            got = decode(data, declared=charset_from_markup(data) if sniffed == "html" else None)
        except Undecodable as exc:
            doc = Doc(id=make_id("<clean_text>", 0), source="<clean_text>", raw="", url=url)
            doc.reject("read", "undecodable", str(exc))
            return Cleaned.from_doc(doc)
        raw, encoding = got.text, got.encoding
    if not isinstance(raw, str):
        raise TypeError(f"clean_text takes a str or bytes, not {type(raw).__name__}")
    raw = safe_str(raw)  # as every reader hands a record over: lone surrogates U+FFFD, no NULs
    fmt = raw_format(raw, fmt)
    doc = Doc(
        id=make_id("<clean_text>", 0), source="<clean_text>", raw=raw, format=fmt, url=url, encoding=encoding
    )
    return Cleaned.from_doc(pipe.clean_doc(doc))


_PIPELINES: dict[str, Pipeline] = {}


def _pipeline_for(config: Config) -> Pipeline:
    """One pipeline per config (stages hold compiled rules and loaded profiles)."""
    key = config.hash
    if key not in _PIPELINES:
        config.validate()
        stages = [s for s in build_stages(config) if s.parallel_safe and s.prepares_for is None]
        _PIPELINES[key] = Pipeline(stages, config)
    return _PIPELINES[key]
