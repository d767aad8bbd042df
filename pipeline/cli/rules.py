"""``cleanwire rules [--check]``: the boilerplate rules in force, and their examples checked."""

from __future__ import annotations

import json

import click

from pipeline.cli.options import build_config, config_options
from pipeline.core.errors import ConfigError
from stages.boilerplate.rulecheck import check_rules
from stages.boilerplate.rulepack import load_rules


@click.command("rules")
@config_options
@click.option(
    "--check", is_flag=True, help="Run every rule's examples and counterexamples; exit 2 on a failure."
)
@click.option("--json", "as_json", is_flag=True, help="List as JSON.")
def rules_cmd(
    config_file: str | None,
    rule_files: tuple[str, ...],
    stages: str | None,
    model: str | None,
    model_threshold: float | None,
    check: bool,
    as_json: bool,
) -> None:
    """List the boilerplate rules in force (built-in packs plus --rules files)."""
    cfg = build_config(
        config_file,
        rule_files,
        {"stages": stages, "model": model, "model_threshold": model_threshold},
    )
    loaded = load_rules(cfg.boilerplate.packs, cfg.boilerplate.rule_files, cfg.boilerplate.disabled_rules)
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
