"""One typed, immutable configuration object (read from plain data by :mod:`pipeline.core.typed`).

``Config`` is a tree of frozen dataclasses. It loads from TOML (sections named like the fields),
accepts overrides by dotted key (:meth:`Config.with_overrides`: the CLI, Airflow and Python
callers all use it), and has a
canonical hash of everything that can change the *content* of the output. Run-time knobs that do
not change content (workers, progress bars) live in :class:`RunConfig` and stay out of the hash,
so the same run on 1 or 8 workers is recognised as the same run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

from pipeline.core.errors import ConfigError
from pipeline.core.typed import SIZE_MAX, ByteSize, Range, build, check_fields, clip, closest, convert, known

#: The length filter runs before ``near_dedup``: a record it drops must never become the kept copy
#: that later copies of the same story are dropped against.
DEFAULT_STAGES: tuple[str, ...] = (
    "extract",
    "encoding",
    "boilerplate",
    "normalize",
    "language",
    "filter",
    "near_dedup",
)

#: Every stage a config may name (:data:`stages.registry.STAGE_FACTORIES` builds each; a test
#: checks that the two agree). Listed here so that a config is checked without building stages.
#: ``dedup`` (exact copies only, in one run) is not in the default chain: ``near_dedup`` drops
#: exact copies too, and keeps them in its index across runs.
STAGE_NAMES: frozenset[str] = frozenset((*DEFAULT_STAGES, "dedup"))

#: The Parquet codecs ``run.compression`` and ``--compression`` offer (all written by pyarrow).
Compression = Literal["zstd", "snappy", "gzip", "lz4", "none"]
COMPRESSIONS: tuple[str, ...] = get_args(Compression)


@dataclass(frozen=True)
class ReaderConfig:
    """How records are found in tabular inputs and how big they may be."""

    text_field: str = "text"
    html_field: str = "html"
    url_field: str = "url"
    id_field: str = "id"
    #: The field holding the record's own date (an ISO 8601 or RFC 2822 string, a Parquet date or
    #: timestamp, epoch seconds or milliseconds: :mod:`pipeline.io.formats.fielddate`). A value
    #: that parses wins over the dates the extract and boilerplate stages find; one that does not
    #: is ignored (the record flagged ``date_field_ignored``). ``""``: no date is read from inputs
    #: (and the setting stays out of the config hash, as before it existed).
    date_field: str = "date"
    keep_fields: tuple[str, ...] = ()
    #: The delimiter of CSV/TSV inputs (one character); None: sniffed per file among ``,`` ``;``
    #: tab and ``|`` (the extension's, ``,`` or tab, wins a tie).
    csv_delimiter: str | None = None
    max_record_bytes: ByteSize = 20_000_000
    max_decompressed_bytes: ByteSize = 2_000_000_000


@dataclass(frozen=True)
class ExtractConfig:
    """trafilatura settings and the caps that keep one page from eating the run."""

    include_comments: bool = False
    include_tables: bool = True
    favor_precision: bool = False
    favor_recall: bool = False
    #: trafilatura's fast cascade first: its own extractor without the comparison against the
    #: readability and jusText fallbacks, which costs a third of the extraction time and matters
    #: on pages where the extractor found little of the page. False: the full cascade on every page.
    fast: bool = True
    #: A page whose fast text is under this share of the page's visible text (non-whitespace
    #: characters of the body, scripts, styles, SVG, ``aside`` and ``footer`` left out) takes
    #: trafilatura's full cascade as well (``stages.extract.cascade``). 0.35 is the smallest share
    #: that kept every page type of WCXB's training pages at or above plain trafilatura (tuned on
    #: wcxb-train); 0 = never.
    slow_share_below: float = 0.35
    #: Remove widget subtrees (newsletter boxes, share bars, related-links lists, ...) before
    #: trafilatura, by the class/id token table learned from WCXB's training pages
    #: (``stages.extract.widgets``). Off: see the README's extraction section for the measurements.
    prune_widgets: bool = False
    #: The widget token table: ``"builtin"`` (``stages/extract/widget_tokens.json``) or the path of
    #: a table ``pipeline/training/widgets.py`` wrote.
    widget_table: str = "builtin"
    #: Drop the extracted lines that label a link list extraction left out ("Most read" over a
    #: ``<ul>`` of links to other stories; ``stages.extract.orphans``).
    drop_orphan_labels: bool = True
    #: htmldate's extensive date search (dates from the page's text and URL when its markup
    #: declares none). trafilatura's default; see the README's evaluation section for its cost.
    extensive_dates: bool = True
    prepend_title: bool = True
    #: Pages longer than this (characters) are rejected ``too_large`` before parsing. As large as a
    #: record may be (``reader.max_record_bytes``): shop and app pages carry megabytes of inline
    #: JSON (two of WCXB's 1,208 training pages are over 5 MB, parsed in 0.3 s, and plain
    #: trafilatura extracts them); the per-record timeout and the worker memory limit bound the rest.
    max_html_bytes: ByteSize = 20_000_000
    max_depth: int = 400


@dataclass(frozen=True)
class EncodingConfig:
    """ftfy's TextFixerConfig, spelled out. Curly quotes and ligatures stay as the publisher wrote them."""

    unescape_html: bool | Literal["auto"] = True
    fix_encoding: bool = True
    fix_latin_ligatures: bool = False
    fix_character_width: bool = False
    uncurl_quotes: bool = False
    fix_line_breaks: bool = True
    remove_control_chars: bool = True
    normalization: Literal["NFC", "NFKC"] | None = "NFC"
    max_chars: int = 1_000_000


@dataclass(frozen=True)
class BoilerplateConfig:
    """Which rule packs run and how much of a document they may take."""

    packs: tuple[str, ...] = ("builtin",)
    rule_files: tuple[str, ...] = ()
    site_rules_file: str | None = None
    disabled_rules: tuple[str, ...] = ()
    max_removed_share: float = 0.8
    #: Removals smaller than this many characters never trip the budget.
    budget_min_chars: int = 200
    on_budget_exceeded: Literal["keep", "reject"] = "keep"
    extract_metadata: bool = True
    #: The learned model that removes what the rules miss: ``"builtin"`` (the one shipped in the
    #: package), the path of a model file (``cleanwire train`` writes one), or ``"none"`` (rules only).
    model: str = "builtin"
    #: The model removes a unit (a block of lines no rule touched) whose P(boilerplate) is at least this.
    #: 0.9 for lm-5 and lm-6, chosen on the tuning split (see ``pipeline.training.run.THRESHOLD_FROM``).
    model_threshold: float = 0.9
    #: The same for the units of an HTML extraction, where extraction has already dropped most of a
    #: page's boilerplate. With lm-3, a lower one was measured and not made the default: 0.7 took
    #: more of the synthetic HTML documents' boilerplate at the same preservation (cross-validated),
    #: but cost a held-out HTML document a sentence.
    model_threshold_html: float = 0.9
    #: A unit right next to a unit the model removes at P >= 0.95, and not ending like a sentence
    #: (a list's last headline, a video's title, a credit line), goes at this lower P(boilerplate);
    #: a value at or above the threshold turns it off. Chosen on the tuning split (the synthetic
    #: corpus's ``dev`` part, scored by a model fitted without its phrasings, stories and sites)
    #: and cross-validated: see the README, "Units next to the model's removals".
    model_threshold_adjacent: float = 0.6
    #: The model's threshold where a learned *soft* site line stands (``cleanwire run
    #: --learn-sites``; :mod:`stages.boilerplate.sitelearn`): a line repeated across a site's
    #: documents needs less of the model's confidence. Applied only when it is lower than the
    #: document's threshold. Chosen on the tuning split with learned sites: 0.7 / 0.6 / 0.5 / 0.3
    #: took 0.940 / 0.941 / 0.944 / 0.945 of the boilerplate (0.935 without soft lines) at
    #: preservation 0.9978 / 0.9978 / 0.9973 / 0.9962 (0.9978).
    site_soft_threshold: float = 0.6
    #: The model's threshold for a unit that names its own site ("offers from The Daily Lantern and
    #: its partners", "... has been with the Brackenridge Sentinel since 2019"; the name is taken
    #: from the URL's host: :mod:`stages.boilerplate.sitename`). Applied only when lower than the
    #: document's threshold (at or above it, e.g. 1, it is off). Measured in the README ("A line that
    #: names its site").
    model_threshold_site_name: float = 0.3
    #: The model's threshold for a short line that is no sentence and shares no word with its
    #: document (an ad label, a widget's few words: ``learned.label_like`` and ``off_topic``),
    #: wherever it stands. At or above the document's threshold it is off. Measured in the README
    #: ("Labels the model doubted").
    model_threshold_label: float = 0.8

    def threshold_for(self, html: bool) -> float:
        """The model's threshold for a document: :attr:`model_threshold_html` for an HTML extraction."""
        return self.model_threshold_html if html else self.model_threshold


@dataclass(frozen=True)
class LanguageConfig:
    """langdetect, seeded, on a bounded sample."""

    #: ``langdetect`` (the default): langdetect's answer, bit for bit, computed by
    #: :mod:`stages.language.fastdetect` (about 3x faster than the library); ``langdetect-library``: the
    #: library's own ``Detector`` (the reference); ``fast``: the same profiles and n-grams with a
    #: vectorised random walk (not bit-identical to langdetect).
    backend: Literal["langdetect", "langdetect-library", "fast"] = "langdetect"
    seed: int = 0
    sample_chars: int = 1000
    min_chars: int = 12
    min_prob: float = 0.5


@dataclass(frozen=True)
class DedupConfig:
    """Whether duplicates are dropped at all, and where their keys are kept between runs."""

    #: False: every copy is kept (neither ``dedup`` nor ``near_dedup`` runs).
    enabled: bool = True
    #: ``--dedup-index DIR``: a directory where ``near_dedup`` keeps the exact and near-duplicate
    #: keys of every record it kept, so that a later run (tomorrow's partition) drops copies of
    #: them. Updated atomically at the end of a run; a rerun of the same inputs is idempotent.
    #: Not part of the config hash: it is a place, like an input path (what it holds is what
    #: changes the output, and the index refuses a run whose parameters differ from its own).
    index: str | None = None


@dataclass(frozen=True)
class NearDedupConfig:
    """Near-duplicate detection (``near_dedup``): MinHash signatures of the cleaned text's word
    shingles, LSH bands for candidates, and the real Jaccard similarity of each candidate pair's
    shingle sets before anything is dropped. Defaults and why: the README's "Near-duplicates"."""

    #: False: ``near_dedup`` drops exact copies only (same ``content_hash``), still across runs.
    enabled: bool = True
    #: Words per shingle (text normalised: NFKC, casefolded, punctuation dropped).
    shingle_words: int = 5
    #: MinHash permutations per signature; the bands use the first ``bands * rows``.
    num_perm: int = 100
    #: LSH: a candidate pair shares all ``rows`` values of at least one of ``bands`` bands;
    #: P(candidate) = 1 - (1 - J**rows)**bands: 0.80 at J=0.5, 0.97 at 0.6, 0.999 at 0.7.
    bands: int = 25
    rows: int = 4
    #: A candidate whose shingle sets have a Jaccard similarity at least this makes the later
    #: record a ``near_duplicate`` of it.
    threshold: float = 0.5
    #: Texts with fewer words are deduplicated exactly only (too short for shingles to mean much).
    min_words: int = 20
    #: Candidates checked per record at most, earliest first (bounds a pathological band).
    max_candidates: int = 100
    #: Seed of the permutations (changing it makes another index).
    seed: int = 1


@dataclass(frozen=True)
class FilterConfig:
    """Minimal quality filter: records whose cleaned text is shorter than this are dropped."""

    min_chars: int = 1


@dataclass(frozen=True)
class RunConfig:
    """Execution knobs. Not part of the config hash: they never change what is written."""

    workers: int = 0  # 0 = number of cores
    batch_size: int = 64
    #: A batch is also closed once its raw inputs reach this many characters (HTML pages are
    #: big: smaller batches keep the workers evenly loaded and the memory in flight small).
    batch_chars: int = 2_000_000
    progress: bool | None = None  # None = only on a terminal
    row_group_bytes: ByteSize = 64 * 1024 * 1024
    compression: Compression = "zstd"
    #: A worker whose resident memory exceeds this many bytes is killed and the record it was on
    #: rejected (``memory_limit``). None: 80 % of the machine's memory over the workers, at least
    #: 1 GiB; 0: no limit (the kernel's out-of-memory killer still costs only one record); else at
    #: least :data:`MIN_WORKER_MEMORY` (256 MiB).
    max_worker_memory: ByteSize | None = None
    #: A record still in a stage after this many seconds (wall clock) is rejected (``timeout``)
    #: and its worker replaced. Every stage's limit, though extraction is what usually needs it.
    record_timeout_s: float = 30.0
    #: A worker process must have started (received and unpickled the stages, warmed them up; the
    #: first one also waits for the forkserver's imports, ~1 s) within this many seconds, or the
    #: run stops with exit 5 instead of waiting for it forever.
    worker_start_timeout_s: float = 60.0


@dataclass(frozen=True)
class OutputConfig:
    """The layout of the Parquet output. Part of the config hash: a run never resumes into a
    directory laid out differently."""

    #: Hive-style partition keys, outermost first: ``lang``, ``date`` (``day=YYYY-MM-DD``), ``month``.
    partition_by: tuple[str, ...] = ()
    #: A part file is closed and the next one started once it reaches this size on disk.
    part_bytes: ByteSize = 256 * 1024 * 1024


PARTITION_KEYS = ("lang", "date", "month")


@dataclass(frozen=True)
class Config:
    stages: tuple[str, ...] = DEFAULT_STAGES
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    encoding: EncodingConfig = field(default_factory=EncodingConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    near_dedup: NearDedupConfig = field(default_factory=NearDedupConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
    run: RunConfig = field(default_factory=RunConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def content_dict(self) -> dict[str, Any]:
        """Everything that can change output content, as plain JSON-able data.

        Rule files are named by path in the config; their *content* (sha256) is included too, so
        editing a rule pack or a reviewed site-rules file makes a different run. So is the
        boilerplate model's (:func:`model_digest`): a retrained model makes a different run.
        """
        data = dataclasses.asdict(self)
        data.pop("run")
        for (section, key), before in ADDED.items():
            if data[section][key] == before:  # as written before the setting existed: same hash
                data[section].pop(key)
        data["dedup"].pop("index")  # a place, not content (see DedupConfig.index)
        files = [*self.boilerplate.rule_files, *filter(None, [self.boilerplate.site_rules_file])]
        data["rule_file_digests"] = {f: _digest(f) for f in files}
        data["model_digest"] = model_digest(self.boilerplate.model)
        return data

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def hash(self) -> str:
        """Canonical hash (sha256 of sorted JSON of :meth:`content_dict`), first 16 hex digits."""
        blob = json.dumps(self.content_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except OSError as exc:  # a directory, no permission
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as exc:
            # ValueError: an integer of more than 4,300 digits (Python's int conversion limit)
            raise ConfigError(f"config file {path} is not valid TOML: {clip(str(exc), 200)}") from exc
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, origin: str = "config") -> Config:
        """A config from plain data shaped like the TOML file (sections as dicts), validated."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{origin}: settings must be a table of sections, got {type(data).__name__}")
        cfg = build(cls, _moved_keys(dict(data), origin), origin)
        cfg.validate()
        return cfg

    def with_overrides(self, overrides: Mapping[str, Any]) -> Config:
        """A copy with the settings named by dotted key replaced, validated::

            cfg.with_overrides({"run.workers": 2, "dedup.enabled": False, "stages": ["extract"]})

        Values are read as a config file's are (a list for a tuple, ``"4GB"`` for a size); an
        unknown key or a value of the wrong type is a :class:`ConfigError` naming the key. The
        command line, the Airflow adapters and Python callers all override settings this way.
        """
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"overrides are a mapping of dotted keys to values, got {type(overrides).__name__}",
                hint='e.g. cfg.with_overrides({"run.workers": 2, "filter.min_chars": 200})',
            )
        sections: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in overrides.items():
            if not isinstance(key, str):
                raise ConfigError(f"a setting is named by a string such as 'run.workers', got {key!r}")
            section, _, name = key.rpartition(".")
            if section:
                sections.setdefault(section, {})[name] = value
            else:
                top[key] = value
        sections = _moved_keys(sections, "override")  # old names read as the new ones, warned
        hints = get_type_hints(Config, include_extras=True)
        changes = {
            name: convert(hints[name], value, name, loading=True)
            for name, value in known(Config, top).items()
        }
        for section, values in sections.items():
            current = getattr(self, section, None) if section in hints else None
            if not dataclasses.is_dataclass(current):
                named = sorted(n for n, h in hints.items() if dataclasses.is_dataclass(h))
                close = closest(section, named)
                meant = f"did you mean {close[0]}.{next(iter(values))}? " if close else ""
                raise ConfigError(
                    f"unknown setting {section}.{next(iter(values))}",
                    hint=f"{meant}settings are named section.field, e.g. run.workers; sections: {', '.join(named)}",
                )
            kind = type(current)
            kind_hints = get_type_hints(kind, include_extras=True)
            parsed = {
                name: convert(kind_hints[name], value, f"{section}.{name}", loading=True)
                for name, value in known(kind, values, prefix=f"{section}.").items()
            }
            changes[section] = dataclasses.replace(current, **parsed)  # type: ignore[type-var]
        cfg = dataclasses.replace(self, **changes)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        check_fields(self, "")
        unknown = [s for s in self.stages if s not in STAGE_NAMES]
        if unknown:
            raise ConfigError(f"unknown stage(s) {unknown}", hint=f"choose from {sorted(STAGE_NAMES)}")
        if not self.stages or self.stages[0] != "extract":
            raise ConfigError(
                f"stages must start with extract (it turns each raw record into text), got {list(self.stages)}",
                hint="e.g. stages = ['extract', 'encoding', 'boilerplate', 'language']",
            )
        if len(set(self.stages)) != len(self.stages):
            raise ConfigError(f"a stage is named twice in {list(self.stages)}")
        delimiter = self.reader.csv_delimiter
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise ConfigError(
                f"reader.csv_delimiter must be one character other than a quote or a line break, got {delimiter!r}",
                hint="e.g. ';' or a tab (--csv-delimiter tab)",
            )
        if self.dedup.index and (not self.dedup.enabled or "near_dedup" not in self.stages):
            raise ConfigError(
                "dedup.index (--dedup-index) is kept by the near_dedup stage, which this chain does not run",
                hint="leave --dedup-index out, or run near_dedup (dedup.enabled, and near_dedup in stages)",
            )
        if not self.boilerplate.model.strip():
            raise ConfigError(
                "boilerplate.model must be 'builtin', 'none' or the path of a model file, got ''"
            )
        table = self.extract.widget_table
        if self.extract.prune_widgets and table != "builtin" and not Path(table).is_file():
            raise ConfigError(
                f"extract.widget_table: no such file {table!r}",
                hint="'builtin', or a table written by python -m pipeline.training.widgets",
            )
        bad_keys = [k for k in self.output.partition_by if k not in PARTITION_KEYS]
        if bad_keys or len(set(self.output.partition_by)) != len(self.output.partition_by):
            raise ConfigError(
                f"output.partition_by: bad or repeated key(s) {list(self.output.partition_by)}",
                hint=f"choose from {list(PARTITION_KEYS)}",
            )
        for key, allowed in RANGES.items():
            value: Any = functools.reduce(getattr, key.split("."), self)
            if value is not None:
                allowed.check(key, value)
        near = self.near_dedup
        if near.bands * near.rows > near.num_perm:
            raise ConfigError(
                f"near_dedup: bands x rows ({near.bands} x {near.rows} = {near.bands * near.rows}) "
                f"is more than num_perm ({near.num_perm})",
                hint="the bands use the first bands x rows values of a signature: raise num_perm "
                "or lower bands or rows",
            )


#: At most :data:`SIZE_MAX` bytes.
_SIZE_NOTE = "bytes, at most 1 PiB"

#: The smallest ``run.max_worker_memory`` (other than 0, no limit): a worker holds ~150 MiB of
#: resident memory with the stages loaded and warmed up before its first record (measured:
#: 146 MiB, with pandas installed), so a lower limit kills every worker on whatever record it is
#: given (``--max-worker-memory 1`` rejected 105 records in one run and 46 in the next) instead of
#: bounding a bad one. 256 MiB leaves a little over 100 MiB for a record.
MIN_WORKER_MEMORY = 256 << 20

#: Every numeric setting's range, checked by :meth:`Config.validate` (a test checks that no
#: numeric field is missing). Sizes, counts and limits of zero would reject every record or,
#: for ``encoding.max_chars``, never finish; sizes have a ceiling (:data:`SIZE_MAX`).
RANGES: dict[str, Range] = {
    "reader.max_record_bytes": Range(1, SIZE_MAX, note=_SIZE_NOTE),
    "reader.max_decompressed_bytes": Range(1, SIZE_MAX, note=_SIZE_NOTE),
    "extract.slow_share_below": Range(0, 1, note="0 = never the full cascade after the fast one"),
    "extract.max_html_bytes": Range(1, SIZE_MAX, note=_SIZE_NOTE),
    "extract.max_depth": Range(1),
    "encoding.max_chars": Range(1),
    "boilerplate.max_removed_share": Range(0, 1, low_open=True),
    "boilerplate.budget_min_chars": Range(0),
    "boilerplate.model_threshold": Range(0, 1, low_open=True),
    "boilerplate.model_threshold_html": Range(0, 1, low_open=True),
    "boilerplate.model_threshold_adjacent": Range(0, 1, low_open=True),
    "boilerplate.site_soft_threshold": Range(0, 1, low_open=True),
    "boilerplate.model_threshold_site_name": Range(0, 1, low_open=True),
    "boilerplate.model_threshold_label": Range(0, 1, low_open=True),
    "language.seed": Range(0),
    "language.sample_chars": Range(1),
    "language.min_chars": Range(0),
    "language.min_prob": Range(0, 1),
    "filter.min_chars": Range(0),
    "near_dedup.shingle_words": Range(1, 16),
    "near_dedup.num_perm": Range(1, 1024),
    "near_dedup.bands": Range(1, 1024),
    "near_dedup.rows": Range(1, 64),
    "near_dedup.threshold": Range(0, 1, low_open=True),
    "near_dedup.min_words": Range(0),
    "near_dedup.max_candidates": Range(1),
    "near_dedup.seed": Range(0, 2**32 - 1),
    "run.workers": Range(0, note="0 = one per core"),
    "run.batch_size": Range(1),
    "run.batch_chars": Range(1),
    "run.row_group_bytes": Range(1, SIZE_MAX, note=_SIZE_NOTE),
    "run.max_worker_memory": Range(
        MIN_WORKER_MEMORY,
        SIZE_MAX,
        or_zero=True,
        size=True,
        note="0 = no limit; a worker holds ~150 MiB with the stages loaded, before any record; at most 1 PiB",
    ),
    "run.record_timeout_s": Range(0, low_open=True),
    "run.worker_start_timeout_s": Range(0, low_open=True),
    "output.part_bytes": Range(1, SIZE_MAX, note=_SIZE_NOTE),
}


#: ``boilerplate.model = "builtin"``: the model file shipped in the package
#: (``stages/boilerplate/models/``) and its sha256, which stands for it in the config hash (a test
#: checks the two agree, so retraining the shipped model means updating both).
BUILTIN_MODEL_FILE = "line-model-lm6.npz"
BUILTIN_MODEL_SHA256 = "e128761c095a54ee754f8a5c4dc0e1074534f9110333f8ed2b3a70584d2c9fd6"


def model_digest(setting: str) -> str | None:
    """What stands for ``boilerplate.model`` in the config hash: the model file's sha256 (the
    shipped one's for ``builtin``; ``"missing"`` for a path that cannot be read), None for ``none``."""
    if setting == "none":
        return None
    return BUILTIN_MODEL_SHA256 if setting == "builtin" else _digest(setting)


def _digest(path: str) -> str:
    """sha256 of a file's bytes, or ``"missing"`` (loading it later fails with a clear error)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


#: Settings added after outputs were written without them, each with the value that does what
#: cleanwire did before it existed. At that value a setting is left out of
#: :meth:`Config.content_dict` (so of the hash and the recorded ``settings``): a directory written
#: before it existed resumes with it set so (``--date-field ''``); at any other value (the default
#: included, when it changes what is written) the hash differs, and a resume is refused naming it.
ADDED: dict[tuple[str, str], Any] = {
    ("reader", "date_field"): "",
    ("extract", "drop_orphan_labels"): False,
    # only learned soft site lines read it, and a site-rules file is hashed by its content
    ("boilerplate", "site_soft_threshold"): 0.6,
    ("boilerplate", "model_threshold_site_name"): 1.0,
    ("boilerplate", "model_threshold_label"): 1.0,
}


def added_setting_hint(changes: list[str]) -> str | None:
    """How to resume a directory written before a setting existed: the :data:`ADDED` setting a
    :func:`settings_diff` line shows as ``(unset)`` before, and the value that reproduces that."""
    for (section, key), before in ADDED.items():
        if any(c.startswith(f"{section}.{key}: (unset) ") for c in changes):
            return f"{section}.{key} = {_setting_value(before)} reproduces runs written before it existed"
    return None


#: Settings that moved: old ``(section, key)`` -> new. A file that still uses the old name is read
#: as if it used the new one, with a warning.
MOVED: dict[tuple[str, str], tuple[str, str]] = {
    ("extract", "timeout_s"): ("run", "record_timeout_s"),
}


def _fast_retry_below(value: Any) -> dict[str, Any]:
    """``extract.fast_retry_below`` (a length under which the fast text was extracted again) in
    terms of ``extract.slow_share_below``: 0 (never again) is 0; a length has no share to map to."""
    try:
        never = not isinstance(value, bool) and float(value) == 0
    except (TypeError, ValueError):
        never = False
    return {"slow_share_below": 0.0} if never else {}


#: Settings that were replaced by others of another meaning: old ``(section, key)`` -> (what
#: replaces it, the old value's settings in that section). A file, an override or an Airflow task
#: that still uses one is read with a warning; a new setting given alongside wins.
RETIRED: dict[tuple[str, str], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    ("extract", "fast_retry_below"): (
        "extract.slow_share_below (the fast text's share of the page's visible text, not a length): "
        "0 is read as slow_share_below = 0, another value is ignored",
        _fast_retry_below,
    ),
}


def _retired_keys(data: dict[str, Any], origin: str, *, stacklevel: int) -> dict[str, Any]:
    """``data`` (sections as dicts) with the :data:`RETIRED` settings read as their replacements."""
    for (section, key), (replacement, mapped) in RETIRED.items():
        old = data.get(section)
        if not isinstance(old, dict) or key not in old:
            continue
        warnings.warn(
            f"{origin}: {section}.{key} is retired; replaced by {replacement}",
            FutureWarning,
            stacklevel=stacklevel,
        )
        kept = {k: v for k, v in old.items() if k != key}
        data = {**data, section: {**mapped(old[key]), **kept}}
    return data


def _moved_keys(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """``data`` with the :data:`MOVED` settings under their new names (and the :data:`RETIRED`
    ones read as their replacements)."""
    data = _retired_keys(data, origin, stacklevel=4)
    for (section, key), (new_section, new_key) in MOVED.items():
        old = data.get(section)
        if not isinstance(old, dict) or key not in old:
            continue
        warnings.warn(
            f"{origin}: {section}.{key} is now {new_section}.{new_key}; read as that",
            FutureWarning,
            stacklevel=3,
        )
        data = {**data, section: {k: v for k, v in old.items() if k != key}}
        target = data.get(new_section, {})
        data[new_section] = {new_key: old[key], **(target if isinstance(target, dict) else {})}
    return data


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _setting_value(value: Any) -> str:
    """A setting's value as the config file spells it: ``true``, ``50``, ``"zstd"``, ``["a", "b"]``."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:119] + "…"


def settings_diff(old: Mapping[str, Any], new: Mapping[str, Any], *, limit: int = 8) -> list[str]:
    """The settings that differ between two :meth:`Config.content_dict` s (as a manifest or a
    marker records them), one ``dedup.enabled: true → false`` each, in key order; a setting one
    side lacks (another cleanwire version) shows as ``(unset)``. At most ``limit``, then
    ``(+N more)``."""
    as_json = json.loads(json.dumps(old)), json.loads(json.dumps(new))  # tuples as lists, as recorded
    before, after = _flatten(as_json[0]), _flatten(as_json[1])
    missing = object()
    changes = []
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key, missing), after.get(key, missing)
        if was == now:
            continue
        shown = [_setting_value(v) if v is not missing else "(unset)" for v in (was, now)]
        changes.append(f"{key}: {shown[0]} → {shown[1]}")
    if len(changes) > limit:
        changes = [*changes[:limit], f"(+{len(changes) - limit} more)"]
    return changes
