"""``cleanwire rules [--check]``: the boilerplate rules in force, and their examples checked."""

from __future__ import annotations

import json

import click

from pipeline.cli.options import build_config, rule_options
from pipeline.core.errors import ConfigError
from stages.boilerplate.neighbours import RULES as STRUCTURE_RULES
from stages.boilerplate.rulecheck import check_rules
from stages.boilerplate.rulepack import load_rules
from stages.boilerplate.sitefile import load_site_rules


@click.command("rules")
@rule_options
@click.option(
    "--check", is_flag=True, help="Run every rule's examples and counterexamples; exit 2 on a failure."
)
@click.option("--json", "as_json", is_flag=True, help="List as JSON.")
@click.option(
    "--site-rules",
    type=click.Path(dir_okay=False),
    help="Learned per-site rules (from `cleanwire learn-sites`) to list or check too.",
)
def rules_cmd(
    config_file: str | None,
    rule_files: tuple[str, ...],
    check: bool,
    as_json: bool,
    site_rules: str | None,
) -> None:
    """List the boilerplate rules in force (built-in packs plus --rules files, and the learned
    per-site rules of --site-rules or the config; their examples are the lines they were learned from)."""
    cfg = build_config(config_file, rule_files)
    b = cfg.boilerplate
    loaded = load_rules(b.packs, b.rule_files, b.disabled_rules)
    loaded = (*loaded, *(r for r in STRUCTURE_RULES if r.id not in b.disabled_rules))
    if site_rules or b.site_rules_file:
        learned = load_site_rules(site_rules or b.site_rules_file or "").without(b.disabled_rules)
        loaded = (*loaded, *learned.rules)
    if check:
        failures = check_rules(loaded)
        for f in failures:
            click.secho(f"FAIL {f}", fg="red", err=True)
        click.echo(f"{len(loaded)} rules, {len(failures)} failing example(s)")
        if failures:
            raise ConfigError(f"{len(failures)} rule example(s) fail")
        return
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "category": r.category,
                        "kind": r.kind,
                        "pack": r.pack,
                        "langs": list(r.langs),
                        "pattern": r.pattern.pattern,
                        "description": r.description,
                    }
                    for r in loaded
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    width = max((len(r.id) for r in loaded), default=10)
    for r in loaded:
        langs = ",".join(r.langs) or "*"
        click.echo(f"{r.id:<{width}}  {r.category:<16} {r.kind:<8} {langs:<12} {r.description}")
    click.echo(f"\n{len(loaded)} rules from packs {', '.join(sorted({r.pack for r in loaded}))}")
