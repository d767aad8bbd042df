"""One typed, immutable configuration object.

``Config`` is a tree of frozen dataclasses. It loads from TOML (sections named like the fields),
accepts overrides with :func:`dataclasses.replace` (the CLI does that for its flags), and has a
canonical hash of everything that can change the *content* of the output. Run-time knobs that do
not change content (workers, progress bars) live in :class:`RunConfig` and stay out of the hash,
so the same run on 1 or 8 workers is recognised as the same run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from pipeline.core.errors import ConfigError

DEFAULT_STAGES: tuple[str, ...] = (
    "extract",
    "encoding",
    "boilerplate",
    "normalize",
    "language",
    "dedup",
    "filter",
)

#: Every stage a config may name (:data:`stages.registry.STAGE_FACTORIES` builds each; a test
#: checks that the two agree). Listed here so that a config is checked without building stages.
STAGE_NAMES: frozenset[str] = frozenset(DEFAULT_STAGES)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``"256MB"``/``"64MiB"``/``"1g"``/``"1048576"`` to bytes (binary multiples)."""
    m = _SIZE.match(text)
    if not m:
        raise ConfigError(f"not a size: {text!r}", hint="use bytes or a unit: 64MB, 512k, 1G")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


class _ByteCount:
    """Marks a field as a number of bytes: a config file may write it as a size (``"64MB"``)."""


#: A number of bytes. In TOML an integer, or a string with a unit as the CLI's size options take
#: (``"4GB"``, ``"512k"``, binary multiples; see :func:`parse_size`).
ByteSize = Annotated[int, _ByteCount]

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
    keep_fields: tuple[str, ...] = ()
    max_record_bytes: ByteSize = 20_000_000
    max_decompressed_bytes: ByteSize = 2_000_000_000


@dataclass(frozen=True)
class ExtractConfig:
    """trafilatura settings and the caps that keep one page from eating the run."""

    include_comments: bool = False
    include_tables: bool = True
    favor_precision: bool = False
    favor_recall: bool = False
    #: trafilatura's fast mode: its own extractor without the comparison against the readability
    #: and jusText fallbacks, which costs a third of the extraction time and matters mostly when
    #: the extractor found little. So a page whose fast extraction is shorter than
    #: ``fast_retry_below`` characters is extracted again with the full cascade.
    fast: bool = True
    fast_retry_below: int = 250
    prepend_title: bool = True
    max_html_bytes: ByteSize = 5_000_000
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
    max_removed_share: float = 0.6
    #: Removals smaller than this many characters never trip the budget.
    budget_min_chars: int = 200
    on_budget_exceeded: Literal["keep", "reject"] = "keep"
    extract_metadata: bool = True


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
    enabled: bool = True


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
    filter: FilterConfig = field(default_factory=FilterConfig)
    run: RunConfig = field(default_factory=RunConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def content_dict(self) -> dict[str, Any]:
        """Everything that can change output content, as plain JSON-able data.

        Rule files are named by path in the config; their *content* (sha256) is included too, so
        editing a rule pack or a reviewed site-rules file makes a different run.
        """
        data = dataclasses.asdict(self)
        data.pop("run")
        files = [*self.boilerplate.rule_files, *filter(None, [self.boilerplate.site_rules_file])]
        data["rule_file_digests"] = {f: _digest(f) for f in files}
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
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, origin: str = "config") -> Config:
        """A config from plain data shaped like the TOML file (sections as dicts), validated."""
        cfg = _build(cls, _moved_keys(data, origin), origin)
        cfg.validate()
        return cfg

    def with_overrides(self, overrides: Mapping[str, Any]) -> Config:
        """A copy with the settings named by dotted key replaced, validated::

            cfg.with_overrides({"run.workers": 2, "dedup.enabled": False, "stages": ["extract"]})

        Values are read as a config file's are (a list for a tuple, ``"4GB"`` for a size); an
        unknown key or a value of the wrong type is a :class:`ConfigError` naming the key. The
        command line, the Airflow adapters and Python callers all override settings this way.
        """
        sections: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in overrides.items():
            section, _, name = key.rpartition(".")
            if section:
                sections.setdefault(section, {})[name] = value
            else:
                top[key] = value
        hints = get_type_hints(Config, include_extras=True)
        changes = {
            name: _value(hints[name], value, name, loading=True)
            for name, value in _known(Config, top).items()
        }
        for section, values in sections.items():
            current = getattr(self, section, None) if section in hints else None
            if not dataclasses.is_dataclass(current):
                named = sorted(n for n, h in hints.items() if dataclasses.is_dataclass(h))
                raise ConfigError(
                    f"unknown setting {section}.{next(iter(values))}",
                    hint=f"settings are named section.field, e.g. run.workers; sections: {', '.join(named)}",
                )
            kind = type(current)
            kind_hints = get_type_hints(kind, include_extras=True)
            parsed = {
                name: _value(kind_hints[name], value, f"{section}.{name}", loading=True)
                for name, value in _known(kind, values, prefix=f"{section}.").items()
            }
            changes[section] = dataclasses.replace(current, **parsed)  # type: ignore[type-var]
        cfg = dataclasses.replace(self, **changes)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        _check_types(self, "")
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


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take: ``low`` (excluded when ``low_open``) to ``high``,
    and 0 too when ``or_zero`` (a limit that 0 turns off)."""

    low: float
    high: float = math.inf
    low_open: bool = False
    #: What a boundary value means, for the message.
    note: str = ""
    or_zero: bool = False
    #: A number of bytes: the message shows ``low`` in MiB.
    size: bool = False

    def holds(self, value: float) -> bool:
        if self.or_zero and value == 0:
            return True
        return (value > self.low if self.low_open else value >= self.low) and value <= self.high

    def check(self, key: str, value: float) -> None:
        """A :class:`ConfigError` naming ``key`` unless ``value`` is in the range."""
        if not self.holds(value):
            raise ConfigError(f"{key} must be {self}, got {value}")

    def __str__(self) -> str:
        if self.high == math.inf:
            low = f"{self.low / (1 << 20):g} MiB" if self.size else f"{self.low:g}"
            text = f"{'>' if self.low_open else '>='} {low}" + (" or 0" if self.or_zero else "")
        else:
            text = f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        return f"{text} ({self.note})" if self.note else text


#: The smallest ``run.max_worker_memory`` (other than 0, no limit): a worker holds ~150 MiB of
#: resident memory with the stages loaded and warmed up before its first record (measured:
#: 146 MiB, with pandas installed), so a lower limit kills every worker on whatever record it is
#: given (``--max-worker-memory 1`` rejected 105 records in one run and 46 in the next) instead of
#: bounding a bad one. 256 MiB leaves a little over 100 MiB for a record.
MIN_WORKER_MEMORY = 256 << 20

#: Every numeric setting's range, checked by :meth:`Config.validate` (a test checks that no
#: numeric field is missing). Sizes, counts and limits of zero would reject every record or,
#: for ``encoding.max_chars``, never finish.
RANGES: dict[str, Range] = {
    "reader.max_record_bytes": Range(1),
    "reader.max_decompressed_bytes": Range(1),
    "extract.fast_retry_below": Range(0, note="0 = never retry"),
    "extract.max_html_bytes": Range(1),
    "extract.max_depth": Range(1),
    "encoding.max_chars": Range(1),
    "boilerplate.max_removed_share": Range(0, 1, low_open=True),
    "boilerplate.budget_min_chars": Range(0),
    "language.seed": Range(0),
    "language.sample_chars": Range(1),
    "language.min_chars": Range(0),
    "language.min_prob": Range(0, 1),
    "filter.min_chars": Range(0),
    "run.workers": Range(0, note="0 = one per core"),
    "run.batch_size": Range(1),
    "run.batch_chars": Range(1),
    "run.row_group_bytes": Range(1),
    "run.max_worker_memory": Range(
        MIN_WORKER_MEMORY,
        or_zero=True,
        size=True,
        note="0 = no limit; a worker holds ~150 MiB with the stages loaded, before any record",
    ),
    "run.record_timeout_s": Range(0, low_open=True),
    "run.worker_start_timeout_s": Range(0, low_open=True),
    "output.part_bytes": Range(1),
}


def _digest(path: str) -> str:
    """sha256 of a file's bytes, or ``"missing"`` (loading it later fails with a clear error)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


T = TypeVar("T")


def _build(cls: type[T], data: dict[str, Any], origin: str) -> T:
    """Build a (nested) frozen dataclass from a dict, rejecting unknown keys with a clear message
    and values that are not of their field's annotated type (see :func:`_value`)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a table, got {_shown(data)}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    extra = set(data) - set(known)
    if extra:
        raise ConfigError(f"{origin}: unknown key(s) {sorted(extra)}", hint=f"known: {sorted(known)}")
    hints = get_type_hints(cls, include_extras=True)
    kwargs = {
        name: _value(hints[name], value, f"{origin}.{name}", loading=True) for name, value in data.items()
    }
    return cls(**kwargs)


#: Settings that moved: old ``(section, key)`` -> new. A file that still uses the old name is read
#: as if it used the new one, with a warning.
MOVED: dict[tuple[str, str], tuple[str, str]] = {
    ("extract", "timeout_s"): ("run", "record_timeout_s"),
}


def _moved_keys(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """``data`` with the :data:`MOVED` settings under their new names."""
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


def _known(cls: type[Any], values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``values``, or a :class:`ConfigError` naming the keys ``cls`` has no field for."""
    known = {f.name for f in fields(cls)}
    extra = sorted(set(values) - known)
    if extra:
        raise ConfigError(
            f"unknown setting(s) {[prefix + k for k in extra]}",
            hint=f"known: {sorted(prefix + k for k in known)}",
        )
    return values


def _check_types(obj: object, origin: str) -> None:
    """Refuse a field of ``obj`` (a config dataclass, recursively) that is not of its annotated
    type: what ``Config(...)`` or :func:`dataclasses.replace` were given in Python."""
    hints = get_type_hints(type(obj), include_extras=True)
    for f in fields(obj):  # type: ignore[arg-type]
        hint, value, where = hints[f.name], getattr(obj, f.name), f"{origin}{f.name}"
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, hint):
            _check_types(value, f"{where}.")
        else:
            _value(hint, value, where, loading=False)


def _value(hint: Any, value: Any, where: str, *, loading: bool) -> Any:
    """``value`` as a field annotated ``hint`` holds it, or a :class:`ConfigError` naming ``where``.

    The types are those of the config dataclasses: ``bool``; ``int`` (not a bool, not a float:
    ``99.9`` is not silently cut to 99); ``float`` (an int is fine; finite); ``str``;
    ``Literal[...]`` (one of its values); ``tuple[X, ...]``; :data:`ByteSize`; unions of these
    with ``None``; nested dataclasses. ``loading`` (a TOML file or a dict): a list for a tuple,
    a size string for a :data:`ByteSize`.
    """
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if loading:
            return _build(hint, value, where)
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: expected {hint.__name__}, got {_shown(value)}")
        return value
    members = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for member in members:
        ok, converted = _accepts(member, value, where, loading)
        if ok:
            return converted
    shown = [m for m in members if m is not NoneType]  # a TOML file cannot write None
    if all(get_origin(m) is Literal for m in shown):
        choices = [c for m in shown for c in get_args(m)]
        raise ConfigError(f"{where}: {_shown(value)} is not one of {choices}")
    wanted = " or ".join(_described(m, loading) for m in shown)
    raise ConfigError(f"{where}: expected {wanted}, got {_shown(value)}")


def _accepts(member: Any, value: Any, where: str, loading: bool) -> tuple[bool, Any]:
    """Whether ``value`` is a ``member`` of a field's type, and the value to store."""
    origin = get_origin(member)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if member is NoneType:
        return value is None, None
    if origin is Literal:
        return any(type(value) is type(c) and value == c for c in get_args(member)), value
    if origin is Annotated and get_args(member)[1:] == (_ByteCount,):
        if loading and isinstance(value, str):
            try:
                return True, parse_size(value)
            except ConfigError:
                return False, None
        return is_int, value
    if member is bool:
        return isinstance(value, bool), value
    if member is int:
        return is_int, value
    if member is float:
        number = is_int or isinstance(value, float)
        return number and math.isfinite(value), float(value) if number else None
    if member is str:
        return isinstance(value, str), value
    if origin is tuple and get_args(member)[1:] == (...,):
        if not isinstance(value, tuple | list if loading else tuple):
            return False, None
        item = get_args(member)[0]
        return True, tuple(_value(item, v, f"{where}[{i}]", loading=loading) for i, v in enumerate(value))
    raise TypeError(f"{where}: config field type {member!r} is not supported")


def _described(member: Any, loading: bool) -> str:
    """What a config file (or, not ``loading``, Python code) must give for ``member``."""
    origin = get_origin(member)
    if origin is Literal:
        choices = get_args(member)
        return repr(choices[0]) if len(choices) == 1 else f"one of {list(choices)}"
    if origin is Annotated:
        return "a whole number of bytes or a size such as '64MB'" if loading else "a whole number of bytes"
    if origin is tuple:
        return f"a {'list' if loading else 'tuple'} of {_described(get_args(member)[0], loading)[2:]}s"
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "a string"}
    return names[member]


def _shown(value: Any) -> str:
    """``value`` for a message: its repr, with its type when the repr does not say it."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list {value!r}"
    return repr(value)
