"""What a user meets at the command line beyond the happy path: a mistyped command or option
value, NO_COLOR, --color through a pipe, the summary of a resumed run, stats of an unfinished
run, the numbers of the stats tables."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.cli.color import use_color
from pipeline.io.layout import OutputLayout

ANSI = "\x1b["
STORY = (
    "Tram line extension approved\n\nThe city council approved the tram extension to the new hospital "
    "on Tuesday evening, after a debate that ran past midnight."
)


def invoke(*args: str, color: bool = False, env: dict[str, str] | None = None) -> Result:
    res = CliRunner().invoke(cli, list(args), color=color, env=env)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res


def _jsonl(path: Path, texts: list[str], prefix: str) -> Path:
    lines = [json.dumps({"id": f"{prefix}{i}", "text": t}) for i, t in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WORDS = tuple(f"{a}{b}" for a in "bcdfgmpst" for b in ("ale", "ine", "ock", "urn", "est"))


def _stories(n: int, topic: str) -> list[str]:
    """``n`` stories no two of which are near-duplicates (each its own word order)."""
    out = []
    for i in range(n):
        words = [WORDS[(i * 7 + j * (i + 3)) % len(WORDS)] for j in range(60)]
        out.append(f"{topic.title()} story {i}\n\n" + " ".join(words) + f" {topic} {i}.")
    return out


def test_a_mistyped_command_is_suggested() -> None:
    res = invoke("runn", "dump/")
    assert res.exit_code == 2
    assert "No such command 'runn'. Did you mean 'run'?" in res.output
    assert "Did you mean 'stats'?" in invoke("stat", "out/").output
    unknown = invoke("frobnicate")
    assert unknown.exit_code == 2 and "No such command 'frobnicate'." in unknown.output
    assert "Did you mean" not in unknown.output


def test_no_color_takes_the_colour_out_of_error_lines(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    coloured = invoke("stats", missing, color=True)
    assert coloured.exit_code == 3 and ANSI in coloured.stderr  # the terminal case shows colour
    plain = invoke("stats", missing, color=True, env={"NO_COLOR": "1"})
    assert plain.exit_code == 3 and "error: input not found" in plain.stderr
    assert ANSI not in plain.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_color_is_off_under_no_color_and_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(_Terminal()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Terminal())
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no-color.org says it does not count
    assert use_color(_Terminal())


def test_explain_color_keeps_its_colour_through_a_pipe(tmp_path: Path) -> None:
    page = tmp_path / "story.txt"
    page.write_text(STORY + "\n\nSource: Read Full Article\n", encoding="utf-8")
    res = invoke("explain", str(page), "--diff", "--color")  # CliRunner's stdout is no terminal
    assert res.exit_code == 0, res.output
    assert ANSI in res.output and "Read Full Article" in res.output
    plain = invoke("explain", str(page), "--diff")
    assert ANSI not in plain.output and "[-Source: Read Full Article-]" in plain.output


def test_the_summary_of_a_resumed_run_says_what_was_cleaned_now(tmp_path: Path) -> None:
    first = _jsonl(tmp_path / "a.jsonl", _stories(4, "ferries"), "a")
    out = str(tmp_path / "out")
    done = invoke("run", str(first), "-o", out)
    assert done.exit_code == 0 and done.output.startswith("cleanwire: 4 records in "), done.output
    second = _jsonl(tmp_path / "b.jsonl", _stories(3, "libraries"), "b")  # sorts after: taken in
    resumed = invoke("run", str(first), str(second), "-o", out)
    assert resumed.exit_code == 0, resumed.output
    headline = resumed.output.splitlines()[0]
    assert re.fullmatch(
        r"cleanwire: 7 records: 3 cleaned now in \d+\.\ds \(\d+\.\d docs/s\), 4 in 1 finished shard\(s\) skipped",
        headline,
    ), headline
    again = invoke("run", str(first), str(second), "-o", out)
    assert again.output.splitlines()[0] == (
        "cleanwire: 7 records, all in 2 finished shard(s) skipped: nothing left to do"
    )


def test_the_json_summary_of_a_resumed_run_tells_this_runs_work_from_the_skipped(tmp_path: Path) -> None:
    first = _jsonl(tmp_path / "a.jsonl", _stories(4, "ferries"), "a")
    second = _jsonl(tmp_path / "b.jsonl", _stories(3, "libraries"), "b")
    out = str(tmp_path / "out")
    assert invoke("run", str(first), "-o", out).exit_code == 0
    res = invoke("run", str(first), str(second), "-o", out, "--json")
    summary = json.loads(res.stdout)
    assert summary["counts"]["n_in"] == 7 and summary["records_processed"] == 3
    assert summary["shards_done"] == 1 and summary["shards_skipped"] == 1 and summary["docs_per_s"] > 0


def test_a_bad_option_value_names_the_option_typed(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", _stories(2, "ferries"), "a")
    out = tmp_path / "out"
    for args, start in (
        (("--timeout", "-1"), "error: --timeout: run.record_timeout_s must be > 0"),
        (("--part-size", "12XB"), "error: --part-size: output.part_bytes: expected"),
        (("-w", "-1"), "error: --workers: run.workers must be >= 0"),
        (("--model-threshold", "2"), "error: --model-threshold: boilerplate.model_threshold must be"),
    ):
        res = invoke("run", str(src), "-o", str(out), *args)
        assert res.exit_code == 2 and res.stderr.startswith(start), res.stderr
    assert not out.exists()


def test_a_bad_value_in_the_config_file_names_the_file_not_an_option(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "a.jsonl", _stories(2, "ferries"), "a")
    conf = tmp_path / "c.toml"
    conf.write_text("[run]\nrecord_timeout_s = -1\n", encoding="utf-8")
    res = invoke("run", str(src), "-o", str(tmp_path / "out"), "--config", str(conf))
    assert res.exit_code == 2 and "--timeout" not in res.stderr and "record_timeout_s" in res.stderr


def test_stats_and_report_of_an_unfinished_run_say_they_count_its_finished_shards(tmp_path: Path) -> None:
    a = _jsonl(tmp_path / "a.jsonl", _stories(3, "ferries"), "a")
    b = _jsonl(tmp_path / "b.jsonl", _stories(2, "libraries"), "b")
    out = tmp_path / "out"
    assert invoke("run", str(a), str(b), "-o", str(out)).exit_code == 0
    finished = invoke("stats", str(out))
    assert finished.exit_code == 0 and "note:" not in finished.stderr
    assert json.loads(invoke("stats", str(out), "--json").stdout)["finished"] is True
    layout = OutputLayout(out)
    for path in (layout.manifest, layout.left("rejects"), layout.left("dropped")):
        path.unlink()  # as a run stopped before its end leaves it: its second shard unfinished too
    (layout.state_dir / "00001.done.json").unlink()
    res = invoke("stats", str(out))
    assert res.exit_code == 0
    assert "records 3: kept 3" in res.stdout
    assert res.stderr.startswith(f"note: {out} holds no manifest yet") and "1 finished shard(s)" in res.stderr
    as_json = invoke("stats", str(out), "--json")
    assert as_json.stderr == "" and json.loads(as_json.stdout)["finished"] is False
    assert json.loads(as_json.stdout)["finished_shards"] == 1
    report = invoke("report", str(out), "-o", str(tmp_path / "r.html"))
    assert report.exit_code == 0 and "1 finished shard(s) only" in report.stderr


def test_stats_tables_write_every_number_with_thousands_separators(tmp_path: Path) -> None:
    long_story = "\n\n".join(f"{STORY} Paragraph {i} of the long report." for i in range(12))
    src = _jsonl(tmp_path / "a.jsonl", [long_story], "a")
    out = tmp_path / "out"
    assert invoke("run", str(src), "-o", str(out)).exit_code == 0
    lines = invoke("stats", str(out)).stdout.splitlines()
    clean = next(line for line in lines if line.strip().startswith("clean "))
    mean = clean.split()[2]
    assert re.fullmatch(r"\d,\d{3}\.\d", mean), clean


def test_explain_id_explains_one_record_of_a_jsonl_dump_as_run_reads_it(tmp_path: Path) -> None:
    dump = tmp_path / "feed.jsonl"
    rows = [
        {"id": "a1", "content": "Ferry returns\n\nSailings resume on Saturday, the operator said."},
        {"id": "a2", "content": f"{STORY}\n\nSource: Read Full Article", "link": "https://news.example/a2"},
    ]
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    res = invoke("explain", str(dump), "--id", "a2", "--text-field", "content", "--url-field", "link")
    assert res.exit_code == 0, res.output
    assert "source.read_full_article" in res.stdout and "Tram line extension approved" in res.stdout
    assert "Ferry returns" not in res.stdout
    # a record run rejects while reading: its id (made from FILE) is in the rejects file
    out = tmp_path / "out"
    assert invoke("run", str(dump), "-o", str(out), "--text-field", "content").exit_code == 0
    with gzip.open(OutputLayout(out).left("rejects"), "rt", encoding="utf-8") as fh:
        rejected = json.loads(fh.readline())
    bad = invoke("explain", str(dump), "--id", rejected["id"], "--text-field", "content")
    assert bad.exit_code == 3 and "cannot be read (invalid_json)" in bad.stderr
    missing = invoke("explain", str(dump), "--id", "zz", "--text-field", "content")
    assert missing.exit_code == 3 and "no record with id 'zz' among its 3 record(s)" in missing.stderr
    whole = invoke("explain", str(dump))
    assert whole.exit_code == 3 and "--id ID" in whole.stderr


def test_explain_of_a_json_line_on_stdin_points_to_id(tmp_path: Path) -> None:
    line = json.dumps({"id": "x", "text": STORY}) + "\n"
    as_text = CliRunner().invoke(cli, ["explain", "-"], input=line)
    assert as_text.exit_code == 0 and "note: stdin holds a JSON object" in as_text.stderr
    as_record = CliRunner().invoke(cli, ["explain", "-", "--id", "x"], input=line)
    assert as_record.exit_code == 0, as_record.output
    assert "note:" not in as_record.stderr and '"id"' not in as_record.stdout
    assert "Tram line extension approved" in as_record.stdout


def test_run_dash_on_a_terminal_says_it_waits_for_json_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    import pipeline.cli.run as run_module

    line = '{"id": "a", "text": "The council met on Monday to discuss the harbour."}\n'
    args = ["run", "-", "-o", str(tmp_path / "out"), "--workers", "1"]
    quiet = CliRunner().invoke(cli, args, input=line)
    assert quiet.exit_code == 0 and "reading JSON lines from the terminal" not in quiet.stderr
    terminal = types.SimpleNamespace(stdin=types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(run_module, "sys", terminal)
    told = CliRunner().invoke(cli, [*args, "--overwrite"], input=line)
    assert told.exit_code == 0, told.output
    assert "reading JSON lines from the terminal (stdin); end with Ctrl-D" in told.stderr


def test_run_engine_ray_builds_its_engine_from_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--timeout and --max-worker-memory reach the Ray workers' supervision (RayEngine.from_config)."""
    from pipeline.core.errors import WorkerError
    from pipeline.execution.ray import RayEngine

    seen: list[tuple[float, int | None]] = []

    def from_config(config: Any, *, num_cpus: int | None = None, address: str | None = None) -> RayEngine:
        seen.append((config.run.record_timeout_s, config.run.max_worker_memory))
        raise WorkerError("stop here: the engine is what this test looks at")

    monkeypatch.setattr(RayEngine, "from_config", staticmethod(from_config))
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"id": "a", "text": "The council met on Monday."}\n')
    args = ["run", str(dump), "-o", str(tmp_path / "out"), "--engine", "ray", "--timeout", "7"]
    res = CliRunner().invoke(cli, [*args, "--max-worker-memory", "600MiB"])
    assert res.exit_code == WorkerError.exit_code, res.output
    assert seen == [(7.0, 600 * 2**20)]


@pytest.mark.parametrize(
    ("workers", "engine"),
    [([], {"name": "SerialEngine"}), (["--workers", "1"], {"name": "ProcessEngine", "workers": 1})],
)
def test_the_manifest_names_the_engine_of_the_run(
    tmp_path: Path, workers: list[str], engine: dict[str, Any]
) -> None:
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"id": "a", "text": "The council met on Monday to discuss the harbour."}\n')
    res = CliRunner().invoke(cli, ["run", str(dump), "-o", str(tmp_path / "out"), *workers])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out" / "_cleanwire" / "manifest.json").read_text())
    assert manifest["engine"] == engine
