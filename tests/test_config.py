"""Configuration: typed, immutable, loadable from TOML, with a hash of what changes output."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline import Config, ConfigError


def test_defaults_are_frozen() -> None:
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.language.seed = 3  # type: ignore[misc]


def test_toml_round_trip_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'stages = ["extract", "encoding", "boilerplate", "language"]\n'
        "[language]\nseed = 7\nsample_chars = 500\n[boilerplate]\nmax_removed_share = 0.4\n[run]\nworkers = 3\n"
    )
    cfg = Config.from_toml(path)
    assert cfg.stages == ("extract", "encoding", "boilerplate", "language")
    assert (cfg.language.seed, cfg.language.sample_chars) == (7, 500)
    assert cfg.boilerplate.max_removed_share == 0.4
    assert cfg.run.workers == 3
    assert cfg.extract == Config().extract


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[language]\nsead = 1\n", "unknown key"),
        ("[langauge]\nseed = 1\n", "unknown key"),
        ("[language]\nseed = 'x'\n", "expected a number"),
        ("[dedup]\nenabled = 'yes'\n", "expected true/false"),
        ("[boilerplate]\nmax_removed_share = 2.0\n", "max_removed_share"),
        ("stages = ['extract', 'nope']\n", "unknown stage"),
        ("this is not toml", "not valid TOML"),
        ("[language]\nbackend = 'fasttext'\n", "not one of"),
        ("[encoding]\nnormalization = 'NFD'\n", "not one of"),
        ("[encoding]\nunescape_html = 'sometimes'\n", "expected true/false"),
    ],
)
def test_bad_config_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Config.from_toml(path)


def test_literal_choices_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[language]\nbackend = 'fast'\n[encoding]\nunescape_html = 'auto'\nnormalization = 'NFKC'\n"
    )
    cfg = Config.from_toml(path)
    assert (cfg.language.backend, cfg.encoding.unescape_html, cfg.encoding.normalization) == (
        "fast",
        "auto",
        "NFKC",
    )


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        Config.from_toml(tmp_path / "nope.toml")


def test_hash_covers_content_settings_but_not_run_knobs() -> None:
    base = Config()
    assert base.hash == Config().hash
    more_workers = dataclasses.replace(base, run=dataclasses.replace(base.run, workers=8, batch_size=7))
    assert more_workers.hash == base.hash
    other_seed = dataclasses.replace(base, language=dataclasses.replace(base.language, seed=1))
    assert other_seed.hash != base.hash
    reordered = dataclasses.replace(base, stages=tuple(reversed(base.stages)))
    assert reordered.hash != base.hash


def test_hash_follows_rule_file_content_not_just_its_path(tmp_path: Path) -> None:
    pack = tmp_path / "site-rules.toml"
    pack.write_text("[pack]\nname = 'a'\n")
    base = Config()
    cfg = dataclasses.replace(
        base, boilerplate=dataclasses.replace(base.boilerplate, site_rules_file=str(pack))
    )
    first = cfg.hash
    assert first != base.hash
    pack.write_text("[pack]\nname = 'b'\n")  # a reviewer edits the learned rules
    assert cfg.hash != first
