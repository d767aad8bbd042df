"""One typed, immutable configuration object.

``Config`` is a tree of frozen dataclasses. It loads from TOML (sections named like the fields),
accepts overrides with :func:`dataclasses.replace` (the CLI does that for its flags), and has a
canonical hash of everything that can change the *content* of the output. Run-time knobs that do
not change content (workers, progress bars) live in :class:`RunConfig` and stay out of the hash,
so the same run on 1 or 8 workers is recognised as the same run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from pipeline.errors import ConfigError

DEFAULT_STAGES: tuple[str, ...] = (
    "extract",
    "encoding",
    "boilerplate",
    "normalize",
    "language",
    "dedup",
    "filter",
)


@dataclass(frozen=True)
class ReaderConfig:
    """How records are found in tabular inputs and how big they may be."""

    text_field: str = "text"
    html_field: str = "html"
    url_field: str = "url"
    id_field: str = "id"
    keep_fields: tuple[str, ...] = ()
    max_record_bytes: int = 20_000_000
    max_decompressed_bytes: int = 2_000_000_000


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
    max_html_bytes: int = 5_000_000
    max_depth: int = 400
    timeout_s: float = 30.0


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
    #: :mod:`stages.fastdetect` (about 3x faster than the library); ``langdetect-library``: the
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
    row_group_bytes: int = 64 * 1024 * 1024
    compression: str = "zstd"
    #: A worker whose resident memory exceeds this many bytes is killed and the record it was on
    #: rejected (``memory_limit``). None: 80 % of the machine's memory over the workers, at least
    #: 1 GiB; 0: no limit (the kernel's out-of-memory killer still costs only one record).
    max_worker_memory: int | None = None


@dataclass(frozen=True)
class OutputConfig:
    """The layout of the Parquet output. Part of the config hash: a run never resumes into a
    directory laid out differently."""

    #: Hive-style partition keys, outermost first: ``lang``, ``date`` (``day=YYYY-MM-DD``), ``month``.
    partition_by: tuple[str, ...] = ()
    #: A part file is closed and the next one started once it reaches this size on disk.
    part_bytes: int = 256 * 1024 * 1024


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
        cfg = _build(cls, data, origin)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        from pipeline.registry import STAGE_FACTORIES  # late: registry imports stages

        unknown = [s for s in self.stages if s not in STAGE_FACTORIES]
        if unknown:
            raise ConfigError(f"unknown stage(s) {unknown}", hint=f"choose from {sorted(STAGE_FACTORIES)}")
        if not self.stages or self.stages[0] != "extract":
            raise ConfigError(
                f"stages must start with extract (it turns each raw record into text), got {list(self.stages)}",
                hint="e.g. stages = ['extract', 'encoding', 'boilerplate', 'language']",
            )
        if len(set(self.stages)) != len(self.stages):
            raise ConfigError(f"a stage is named twice in {list(self.stages)}")
        if self.filter.min_chars < 0 or self.language.min_chars < 0 or self.language.sample_chars < 1:
            raise ConfigError(
                "filter.min_chars and language.min_chars must be >= 0, language.sample_chars >= 1"
            )
        if not 0.0 < self.boilerplate.max_removed_share <= 1.0:
            raise ConfigError("boilerplate.max_removed_share must be in (0, 1]")
        if self.run.workers < 0 or self.run.batch_size < 1 or self.run.batch_chars < 1:
            raise ConfigError("run.workers must be >= 0, run.batch_size and run.batch_chars >= 1")
        if self.extract.timeout_s <= 0:
            raise ConfigError("extract.timeout_s must be > 0")
        bad_keys = [k for k in self.output.partition_by if k not in PARTITION_KEYS]
        if bad_keys or len(set(self.output.partition_by)) != len(self.output.partition_by):
            raise ConfigError(
                f"output.partition_by: bad or repeated key(s) {list(self.output.partition_by)}",
                hint=f"choose from {list(PARTITION_KEYS)}",
            )
        if self.run.max_worker_memory is not None and self.run.max_worker_memory < 0:
            raise ConfigError("run.max_worker_memory must be >= 0 bytes (0 = no limit)")
        if self.output.part_bytes < 1 or self.run.row_group_bytes < 1:
            raise ConfigError("output.part_bytes and run.row_group_bytes must be >= 1")


def _digest(path: str) -> str:
    """sha256 of a file's bytes, or ``"missing"`` (loading it later fails with a clear error)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


T = TypeVar("T")


def _build(cls: type[T], data: dict[str, Any], origin: str) -> T:
    """Build a (nested) frozen dataclass from a dict, rejecting unknown keys with a clear message."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a table, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    extra = set(data) - set(known)
    if extra:
        raise ConfigError(f"{origin}: unknown key(s) {sorted(extra)}", hint=f"known: {sorted(known)}")
    kwargs: dict[str, Any] = {}
    defaults = cls()  # all config classes are default-constructible
    hints = get_type_hints(cls)
    for name, value in data.items():
        default = getattr(defaults, name)
        where = f"{origin}.{name}"
        choices = _choices(hints[name])
        if dataclasses.is_dataclass(default):
            kwargs[name] = _build(type(default), value, where)
        elif isinstance(value, str) and value in choices:
            kwargs[name] = value
        elif isinstance(default, tuple):
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{where}: expected a list")
            kwargs[name] = tuple(value)
        elif isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        elif isinstance(default, int | float) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where}: expected a number, got {value!r}")
            kwargs[name] = type(default)(value)
        else:
            if isinstance(default, str | None) and choices:
                raise ConfigError(f"{where}: {value!r} is not one of {choices}")
            kwargs[name] = value
        kwargs.setdefault(name, value)
    return cls(**kwargs)


def _choices(hint: Any) -> list[object]:
    """The values of a ``Literal[...]`` field type (``bool | Literal["auto"]`` gives ``["auto"]``)."""
    members = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    return [c for m in members if get_origin(m) is Literal for c in get_args(m)]
