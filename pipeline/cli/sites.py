"""``cleanwire learn-sites DUMP... -o site-rules.toml``: learn per-site repeated lines.

The first pass of per-site learning: every record of the dump goes through the stages that
come before ``boilerplate`` in the configured order (extraction, encoding repair), and
:func:`stages.boilerplate.sitelearn.learn_site_rules` counts its lines per URL host. The saved file is for
review and for ``cleanwire run --site-rules FILE`` (``cleanwire run --learn-sites`` does both
passes in one command).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pyarrow as pa

from pipeline.cli.io_options import check_writable_file, write_error
from pipeline.cli.options import build_config, field_options
from pipeline.core.batching import batched
from pipeline.core.config import Config
from pipeline.core.record import docs_from_batch
from pipeline.execution.engines import engine_for
from pipeline.io.readers import Source
from stages.boilerplate.rulepack import load_rules
from stages.boilerplate.sitefile import load_site_rules, save_site_rules
from stages.boilerplate.sitelearn import learn_site_rules
from stages.boilerplate.siterules import LearnConfig, SiteRules, covered_by, host_of
from stages.registry import STAGE_FACTORIES


def pre_boilerplate_stages(config: Config) -> list[str]:
    """The configured stages that run before ``boilerplate`` (all of them if it is absent)."""
    names = list(config.stages)
    return names[: names.index("boilerplate")] if "boilerplate" in names else names


def _batches(source: Source, config: Config) -> Iterator[pa.RecordBatch]:
    """Every record of every shard, in work batches as ``cleanwire run`` cuts them."""
    docs = (doc for shard in source.shards() for doc in shard.docs(config.reader))
    yield from batched(docs, config.run.batch_size, config.run.batch_chars)


def _texts(source: Source, config: Config) -> Iterator[tuple[str | None, str]]:
    """``(host, text)`` of every record after the pre-boilerplate stages, run by the same
    supervised engine as ``cleanwire run`` (per-record timeout, crash isolation, workers)."""
    stages = [STAGE_FACTORIES[name](config) for name in pre_boilerplate_stages(config)]
    batches = _batches(source, config)
    if not stages:
        results: Iterator[pa.RecordBatch] = batches
        engine = None
    else:
        engine = engine_for(config)
        results = (batch for batch, _ in engine.map(stages, batches))
    try:
        for batch in results:
            for doc in docs_from_batch(batch):
                if doc.ok:
                    yield host_of(doc.url), doc.text
    finally:
        if engine is not None:
            engine.close()


def learn_from_inputs(inputs: tuple[str, ...], config: Config, learn: LearnConfig) -> SiteRules:
    """First pass over ``inputs``: learn the repeated lines of every host."""
    b = config.boilerplate
    known = covered_by(load_rules(b.packs, b.rule_files, b.disabled_rules))
    return learn_site_rules(_texts(Source(inputs, config.reader), config), learn, known)


def describe(rules: SiteRules, path: Path) -> str:
    hosts = ", ".join(f"{h} ({len(v)})" for h, v in list(rules.lines.items())[:8])
    more = " …" if len(rules.lines) > 8 else ""
    soft = sum(ln.soft for lines in rules.lines.values() for ln in lines)
    of_them = f" ({soft} soft: they lower the model's threshold, no rule)" if soft else ""
    return f"learned {len(rules)} line(s){of_them} for {len(rules.lines)} site(s) -> {path}" + (
        f"\n  {hosts}{more}" if hosts else ""
    )


def learn_options(fn: click.decorators.FC) -> click.decorators.FC:
    defaults = LearnConfig()
    opts = [
        click.option(
            "--min-docs",
            type=int,
            default=defaults.min_docs,
            show_default=True,
            help="Never learn from a site with fewer distinct documents.",
        ),
        click.option(
            "--min-repeat",
            type=int,
            default=defaults.min_repeat,
            show_default=True,
            help="A line must occur in at least this many documents of its site…",
        ),
        click.option(
            "--min-share",
            type=float,
            default=defaults.min_share,
            show_default=True,
            help="…and in at least this share of them.",
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


@click.command("learn-sites")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the learned rules (.toml, or .json).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file.")
@field_options
@learn_options
def learn_sites_cmd(
    inputs: tuple[str, ...],
    output: str,
    config_file: str | None,
    min_docs: int,
    min_repeat: int,
    min_share: float,
    **fields: str | None,
) -> None:
    """Learn lines that repeat across many documents of one site (by URL host) in INPUTS.

    \b
    Review the file, delete what should stay, then clean with it:
      cleanwire learn-sites dump/ -o site-rules.toml
      cleanwire run dump/ -o out/ --site-rules site-rules.toml
    """
    # the fields as `run` maps them (a record without them is an input error whose hint names these options)
    cfg = build_config(config_file, options=fields)
    target = check_writable_file(output)  # before the pass over the dump, not after it
    learn = LearnConfig(min_docs=min_docs, min_repeat=min_repeat, min_share=min_share)
    rules = learn_from_inputs(inputs, cfg, learn)
    click.echo(describe(rules, _save(rules, target)))


def _save(rules: SiteRules, path: Path) -> Path:
    try:
        return save_site_rules(rules, path)
    except OSError as exc:
        raise write_error(path, exc) from exc


@dataclass(frozen=True)
class Replaced:
    """A site-rules file ``cleanwire run --learn-sites`` has just written, and what it held before
    (None: there was none), so that a run refused or failed can put it back
    (:meth:`restore`): a refusal (another run holds the directory, other inputs, another
    configuration) then leaves the file as it was."""

    path: Path
    before: bytes | None

    def restore(self) -> None:
        try:
            if self.before is None:
                self.path.unlink(missing_ok=True)
            else:
                self.path.write_bytes(self.before)
        except OSError as exc:
            raise write_error(self.path, exc) from exc


def apply_site_rules(
    cfg: Config, inputs: tuple[str, ...], output: str, site_rules: str | None, learn_sites: bool
) -> tuple[Config, Replaced | None]:
    """``cleanwire run --site-rules FILE [--learn-sites]``: the config that uses the site rules,
    and with ``learn_sites`` the file it replaced (:class:`Replaced`, for the caller to restore
    when the run does not go through).

    With ``learn_sites`` the first pass learns from ``inputs`` and writes the rules to
    ``site_rules`` (default: ``<OUTPUT>-site-rules.toml`` next to the output directory, which a
    rerun with ``--overwrite`` would wipe); that path is checked before the pass. The file is
    loaded once here so that a bad one fails before any output is written.
    """
    replaced = None
    if learn_sites:
        target = Path(site_rules) if site_rules else Path(f"{str(output).rstrip('/')}-site-rules.toml")
        check_writable_file(target)  # before the first pass, not after it
        learned = learn_from_inputs(inputs, cfg, LearnConfig())
        replaced = Replaced(target, target.read_bytes() if target.is_file() else None)
        click.echo(describe(learned, _save(learned, target)), err=True)
        site_rules = str(target)
    if not site_rules:
        return cfg, None
    load_site_rules(site_rules)
    return cfg.with_overrides({"boilerplate.site_rules_file": site_rules}), replaced
