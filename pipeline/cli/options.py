"""Options the commands share, and the one table from command-line options to config settings.

A command's options arrive as click's keyword arguments; :data:`SETTINGS` says which config key
each one sets (and how its text becomes the setting's value), and :func:`build_config` applies
them to the config file's settings with :meth:`Config.with_overrides`, the same way Airflow and
Python callers override settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from pipeline.core.config import Config
from pipeline.core.errors import ConfigError


def comma_list(text: str) -> tuple[str, ...]:
    """``"lang, date"`` -> ``("lang", "date")``."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


#: The options that name the fields of JSONL/CSV/Parquet records (``reader.*_field``, applied by
#: :func:`~pipeline.cli.options.build_config`): ``run`` and ``learn-sites`` read records alike.
_FIELD_OPTIONS = (
    click.option(
        "--text-field", help="Field holding plain text in JSONL/CSV/Parquet records (default: text)."
    ),
    click.option("--html-field", help="Field holding HTML in JSONL/CSV/Parquet records (default: html)."),
    click.option("--url-field", help="Field holding the URL (default: url)."),
    click.option("--id-field", help="Field holding the record id (default: id)."),
)


def _apply(fn: Any, opts: Sequence[Any]) -> Any:
    """``fn`` with the click options ``opts``, listed in ``--help`` in their order."""
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def field_options(fn: Any) -> Any:
    """``--text-field``, ``--html-field``, ``--url-field`` and ``--id-field``, in that order."""
    return _apply(fn, _FIELD_OPTIONS)


#: Names ``--csv-delimiter`` takes besides the character itself (a tab is awkward to type).
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def delimiter(text: str) -> str:
    """``--csv-delimiter`` to the character: itself, or ``tab``/``\\t``/``comma``/``semicolon``/``pipe``/``space``."""
    return DELIMITER_NAMES.get(text.lower(), text)


@dataclass(frozen=True)
class Setting:
    """A command-line option (click's parameter name) and the config key it sets."""

    option: str
    key: str
    #: From the option's value to the setting's; None: as given (the config reads sizes, lists).
    convert: Callable[[Any], Any] | None = None
    #: Further config keys the option sets to the same value.
    also: tuple[str, ...] = ()


#: Every command-line option that overrides a config setting, in one place.
SETTINGS: tuple[Setting, ...] = (
    Setting("stages", "stages", comma_list),
    Setting("model", "boilerplate.model"),
    Setting("model_threshold", "boilerplate.model_threshold", also=("boilerplate.model_threshold_html",)),
    Setting("workers", "run.workers"),
    Setting("batch_size", "run.batch_size"),
    Setting("max_worker_memory", "run.max_worker_memory"),
    Setting("timeout_s", "run.record_timeout_s"),
    Setting("progress", "run.progress"),
    Setting("row_group_size", "run.row_group_bytes"),
    Setting("compression", "run.compression"),
    Setting("text_field", "reader.text_field"),
    Setting("html_field", "reader.html_field"),
    Setting("url_field", "reader.url_field"),
    Setting("id_field", "reader.id_field"),
    Setting("date_field", "reader.date_field"),
    Setting("keep_fields", "reader.keep_fields"),
    Setting("csv_delimiter", "reader.csv_delimiter", delimiter),
    Setting("dedup", "dedup.enabled"),
    Setting("near_dedup", "near_dedup.enabled"),
    Setting("dedup_index", "dedup.index"),
    Setting("min_chars", "filter.min_chars"),
    Setting("partition_by", "output.partition_by", comma_list),
    Setting("part_size", "output.part_bytes"),
)
_BY_OPTION = {s.option: s for s in SETTINGS}


def overrides(options: Mapping[str, Any]) -> dict[str, Any]:
    """The config overrides the given command-line ``options`` make (unset ones make none)."""
    out: dict[str, Any] = {}
    for name, value in options.items():
        setting = _BY_OPTION.get(name)
        if setting is None or value is None or value == ():
            continue
        value = setting.convert(value) if setting.convert else value
        for key in (setting.key, *setting.also):
            out[key] = value
    return out


_RULE_OPTIONS = [
    click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file."),
    click.option(
        "--rules",
        "rule_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Extra boilerplate rule pack (TOML); repeatable.",
    ),
]


def rule_options(fn: Any) -> Any:
    """Options of a command that reads the rules in force: the config file and extra rule packs."""
    return _apply(fn, _RULE_OPTIONS)


def config_options(fn: Any) -> Any:
    """Options of every command that builds a pipeline: the config file, extra rule packs, stages,
    the boilerplate model and its threshold."""
    opts = [
        *_RULE_OPTIONS,
        click.option(
            "--stages", help="Comma-separated stage order, e.g. extract,encoding,boilerplate,language."
        ),
        click.option(
            "--model",
            metavar="PATH|none",
            help="Boilerplate model file (`cleanwire train` writes one), or 'none' for rules only "
            "(default: boilerplate.model, the built-in model).",
        ),
        click.option(
            "--model-threshold",
            type=float,
            help="Remove a unit the model scores at least this, in text records and HTML extractions alike "
            "(default: boilerplate.model_threshold and boilerplate.model_threshold_html, 0.9).",
        ),
    ]
    return _apply(fn, opts)


def _option_flag(name: str) -> str | None:
    """The ``--flag`` of the current command's parameter ``name`` (click's), if there is one."""
    ctx = click.get_current_context(silent=True)
    for param in ctx.command.params if ctx else ():
        if param.name == name and isinstance(param, click.Option):
            return max(param.opts, key=len)
    return None


def _names(message: str, key: str) -> bool:
    """Whether ``message`` is about the setting ``key`` (not one whose key ``key`` begins:
    ``boilerplate.model`` is not ``boilerplate.model_threshold``)."""
    return re.match(rf"{re.escape(key)}(?!\w)", message) is not None


def _naming_the_option(exc: ConfigError, options: Mapping[str, Any]) -> ConfigError:
    """``exc`` about a setting a command-line option set, with the option named first: the user
    typed ``--timeout -1``, the message speaks of ``run.record_timeout_s``."""
    for setting in SETTINGS:
        if options.get(setting.option) in (None, ()):
            continue
        flag = _option_flag(setting.option)
        if flag and any(_names(exc.message, key) for key in (setting.key, *setting.also)):
            return type(exc)(f"{flag}: {exc.message}", hint=exc.hint)
    return exc


def build_config(
    config_file: str | None, rule_files: Iterable[str] = (), options: Mapping[str, Any] | None = None
) -> Config:
    """The config file (or the defaults) with ``--rules`` files added and the command-line
    ``options`` applied (see :data:`SETTINGS`); validated, its rule packs and its boilerplate model
    loaded once so that a bad pack or model file fails before any work starts."""
    from stages.boilerplate.learned import load_model  # not at import: `cleanwire run` starts its
    from stages.boilerplate.rulepack import load_rules  # forkserver before numpy and pyarrow load

    cfg = Config.from_toml(config_file) if config_file else Config()
    changes = overrides(options or {})
    if rule_files:
        changes["boilerplate.rule_files"] = (*cfg.boilerplate.rule_files, *rule_files)
    if changes:
        try:
            cfg = cfg.with_overrides(changes)
        except ConfigError as exc:
            raise _naming_the_option(exc, options or {}) from exc
    load_rules(cfg.boilerplate.packs, cfg.boilerplate.rule_files, cfg.boilerplate.disabled_rules)
    if "boilerplate" in cfg.stages:
        load_model(cfg.boilerplate.model)
    return cfg
