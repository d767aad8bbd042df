"""The CLI, through click's runner: run, explain, rules, and exit codes for what cannot proceed."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import ConfigError, InputError, OutputError
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import read_left

GOOD = "Tram line extension approved\n\nThe city council approved the tram extension to the new hospital on Tuesday evening."


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


def test_run_on_the_demo_fixtures_prints_a_summary_and_a_balanced_manifest(
    demo_dump: Path, tmp_path: Path
) -> None:
    code, out = invoke("run", str(demo_dump), "-o", str(tmp_path / "o"), "--workers", "1")
    assert code == 0, out
    manifest = json.loads(OutputLayout(tmp_path / "o").manifest.read_text())
    c = manifest["counts"]
    assert c["n_in"] == c["n_kept"] + c["n_dropped"] + c["n_rejected"]
    assert c["n_kept"] > 0 and c["n_rejected"] > 0 and c["n_dropped"] > 0
    assert f"{c['n_in']} records" in out
    assert "kept" in out and "rejected by stage/reason" in out and "languages:" in out
    assert set(c["langs"]) >= {"en", "de", "fr", "es"}
    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in (tmp_path / "o").glob("part-*.parquet"))
    assert kept == c["n_kept"]
    assert read_left(OutputLayout(tmp_path / "o").left("rejects")).num_rows == c["n_rejected"]


def test_python_dash_m_pipeline_is_the_same_cli() -> None:
    import runpy
    import sys

    argv = sys.argv
    sys.argv = ["cleanwire", "--help"]
    try:
        runpy.run_module("pipeline", run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    finally:
        sys.argv = argv


def test_explain_shows_removals_fixes_language_and_final_text(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(
        GOOD.replace("approved the", "approvedÂ the") + "\n\nSource: Read Full Article\n", encoding="utf-8"
    )
    code, out = invoke("explain", str(doc))
    assert code == 0, out
    assert "removed source_link by source.read_full_article" in out
    assert "fix " in out
    assert "lang: en" in out
    assert out.rstrip().endswith("new hospital on Tuesday evening.")

    code, out = invoke("explain", str(doc), "--json")
    steps = json.loads(out)
    assert [s["stage"] for s in steps][:3] == ["extract", "encoding", "boilerplate"]
    assert steps[2]["removed"][0]["category"] == "source_link"


def test_explain_reads_a_compressed_html_file_as_run_does(tmp_path: Path) -> None:
    # explain read the raw bytes of page.html.gz (gzip data, "undecodable") and crashed.
    body = "Die Bürgermeisterin sagte, dass die Straße über die Brücke für drei Wochen gesperrt bleibt."
    html = f'<html><head><meta charset="windows-1252"><title>Brücke</title></head><body><article><p>{body}</p><p>{body}</p></article></body></html>'
    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(html.encode("cp1252")))
    code, out = invoke("explain", str(page))
    assert code == 0, out
    assert "lang: de" in out and out.rstrip().endswith(body)
    res = CliRunner().invoke(
        cli, ["explain", "-", "--format", "html"], input=gzip.compress(html.encode("cp1252"))
    )
    assert res.exit_code == 0 and res.output.rstrip().endswith(body)


def test_explain_on_binary_bytes_is_an_input_error_not_a_traceback(tmp_path: Path) -> None:
    blob = tmp_path / "blob.txt"
    blob.write_bytes(bytes(range(256)) * 40)
    res = CliRunner().invoke(cli, ["explain", str(blob)])
    assert res.exit_code == InputError.exit_code
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
    (line,) = res.output.splitlines()
    assert line.startswith(f"error: {blob}: cannot be read (undecodable): ")


def test_rules_lists_and_checks_the_builtin_pack(tmp_path: Path) -> None:
    code, out = invoke("rules")
    assert code == 0 and "source.read_full_article" in out
    code, out = invoke("rules", "--check")
    assert code == 0, out


def test_user_rule_pack_is_loaded_and_applied(tmp_path: Path) -> None:
    pack = tmp_path / "mine.toml"
    pack.write_text(
        '[pack]\nname = "mine"\n[[rules]]\nid = "mine.tip"\ncategory = "promo_block"\n'
        "pattern = '''Got a story\\? Email .+'''\nexamples = [\"Got a story? Email news@x.example\"]\n"
    )
    doc = tmp_path / "d.txt"
    doc.write_text(GOOD + "\n\nGot a story? Email news@x.example\n")
    code, out = invoke("explain", str(doc), "--rules", str(pack))
    assert code == 0 and "by mine.tip" in out
    code, out = invoke("rules", "--rules", str(pack))
    assert "mine.tip" in out


def test_missing_input_fails_fast_with_input_exit_code(tmp_path: Path) -> None:
    code, out = invoke("run", str(tmp_path / "nope"), "-o", str(tmp_path / "o"))
    assert code == InputError.exit_code
    assert "input not found" in out
    assert not (tmp_path / "o").exists()


def test_bad_config_fails_fast_with_config_exit_code(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[language]\nseed = 'zero'\n")
    (tmp_path / "d.txt").write_text(GOOD)
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "--config", str(cfg))
    assert code == ConfigError.exit_code
    assert "language.seed" in out
    bad_rules = tmp_path / "r.toml"
    bad_rules.write_text("[[rules]]\nid = 'x'\ncategory = 'nonsense'\npattern = 'a'\n")
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "--rules", str(bad_rules))
    assert code == ConfigError.exit_code and "unknown category" in out
    for stages in ("language", "", "extract,extract"):
        code, out = invoke("run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "--stages", stages)
        assert code == ConfigError.exit_code, (stages, out)
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "--min-chars", "-3")
    assert code == ConfigError.exit_code and "min_chars" in out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[run]\ncompression = 'brotli9'\n", "run.compression"),  # was a pyarrow traceback, _state/ left
        ("[run]\nmax_worker_memory = '4 bytes please'\n", "run.max_worker_memory"),  # was a TypeError
        ("[boilerplate]\nsite_rules_file = 5\n", "boilerplate.site_rules_file"),  # was a TypeError
        ("[reader]\ntext_field = 5\n", "reader.text_field"),
        ("[run]\nprogress = 'yes'\n", "run.progress"),
        ("[filter]\nmin_chars = 99.9\n", "filter.min_chars"),
    ],
)
def test_config_value_of_the_wrong_type_is_one_line_exit_2_before_any_output(
    tmp_path: Path, text: str, key: str
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    (tmp_path / "d.txt").write_text(GOOD)
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "-w", "1", "--config", str(cfg)]
    )
    assert isinstance(res.exception, SystemExit) and res.exit_code == ConfigError.exit_code, res.output
    assert res.stderr.startswith("error: ") and key in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_encoding_max_chars_zero_is_refused_before_the_run(tmp_path: Path) -> None:
    # it passed validation, then the encoding stage cut lines into empty pieces forever
    cfg = tmp_path / "c.toml"
    cfg.write_text("[encoding]\nmax_chars = 0\n")
    (tmp_path / "d.txt").write_text("CafÃ© " + GOOD)
    code, out = invoke(
        "run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "-w", "1", "--config", str(cfg)
    )
    assert code == ConfigError.exit_code and "encoding.max_chars must be >= 1, got 0" in out
    assert not (tmp_path / "o").exists()


def test_config_file_sizes_take_units(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[run]\nmax_worker_memory = '1.5GB'\ncompression = 'gzip'\n[output]\npart_bytes = '64MB'\n"
    )
    (tmp_path / "d.txt").write_text(GOOD)
    code, out = invoke(
        "run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "-w", "1", "--config", str(cfg)
    )
    assert code == 0, out
    manifest = json.loads(OutputLayout(tmp_path / "o").manifest.read_text())
    assert manifest["config"]["run"]["max_worker_memory"] == 3 << 29
    assert manifest["config"]["output"]["part_bytes"] == 64 << 20
    assert (
        pq.ParquetFile(tmp_path / "o" / "part-00000.parquet").metadata.row_group(0).column(0).compression
        == "GZIP"
    )


def test_output_with_another_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(GOOD)
    out_dir = str(tmp_path / "o")
    assert invoke("run", str(tmp_path / "d.txt"), "-o", out_dir, "--workers", "1")[0] == 0
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", out_dir, "--min-chars", "50", "--workers", "1")
    assert code == OutputError.exit_code
    assert "another configuration: filter.min_chars: 1 → 50\n" in out and "--overwrite" in out
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", out_dir, "--no-dedup", "--partition-by", "lang")
    assert code == OutputError.exit_code
    assert 'dedup.enabled: true → false; output.partition_by: [] → ["lang"]' in out
    # the manifest alone names them too (a run killed before any shard finished has only markers)
    for marker in OutputLayout(tmp_path / "o").markers():
        marker.unlink()
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", out_dir, "--no-dedup")
    assert code == OutputError.exit_code and "dedup.enabled: true → false" in out
    code, _ = invoke("run", str(tmp_path / "d.txt"), "-o", out_dir, "--min-chars", "50", "--overwrite")
    assert code == 0


def test_output_of_an_older_cleanwire_with_another_config_is_refused_by_hash(tmp_path: Path) -> None:
    """Markers and manifests that did not record the settings: the two hashes, as before."""
    (tmp_path / "d.txt").write_text(GOOD)
    out_dir = tmp_path / "o"
    assert invoke("run", str(tmp_path / "d.txt"), "-o", str(out_dir), "--workers", "1")[0] == 0
    layout = OutputLayout(out_dir)
    for path in [layout.manifest, *layout.markers()]:
        recorded = json.loads(path.read_text())
        del recorded["settings"]
        path.write_text(json.dumps(recorded))
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", str(out_dir), "--no-dedup")
    assert code == OutputError.exit_code
    assert f"another configuration: config hash {recorded['config_hash']}; this one is " in out


def test_a_changed_rule_file_is_named_as_the_setting_that_differs(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(GOOD)
    rules = tmp_path / "mine.toml"
    pack = '[pack]\nname = "mine"\n[[rules]]\nid = "mine.a"\ncategory = "promo_block"\npattern = "{}"\n'
    rules.write_text(pack.format("^Read more$"))
    args = ["run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "--rules", str(rules), "-w", "1"]
    code, out = invoke(*args)
    assert code == 0, out
    rules.write_text(pack.format("^Read more now$"))
    code, out = invoke(*args)
    assert code == OutputError.exit_code
    assert f"rule_file_digests.{rules}: " in out and " → " in out


def test_rerun_of_a_finished_run_skips_its_shards(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(GOOD)
    out_dir = tmp_path / "o"
    assert invoke("run", str(tmp_path / "d.txt"), "-o", str(out_dir), "--workers", "1")[0] == 0
    before = (out_dir / "part-00000.parquet").read_bytes()
    code, out = invoke("run", str(tmp_path / "d.txt"), "-o", str(out_dir), "--workers", "1")
    assert code == 0 and "1 finished shard(s) skipped" in out
    assert (out_dir / "part-00000.parquet").read_bytes() == before


def test_the_command_freezes_what_is_alive_on_its_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import sys

    from pipeline.cli import main

    monkeypatch.setattr(sys, "argv", ["cleanwire", "--help"])
    gc.unfreeze()  # whatever an earlier test in this process froze
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 0
        assert gc.get_freeze_count() > 0  # the interpreter's exit will not scan these objects
    finally:
        gc.unfreeze()


def test_max_worker_memory_takes_a_size_and_reaches_the_run(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(GOOD, encoding="utf-8")
    code, out = invoke(
        "run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "o"), "-w", "1", "--max-worker-memory", "1.5GB"
    )
    assert code == 0, out
    manifest = json.loads(OutputLayout(tmp_path / "o").manifest.read_text())
    assert manifest["config"]["run"]["max_worker_memory"] == 3 << 29
    code, out = invoke(
        "run", str(tmp_path / "d.txt"), "-o", str(tmp_path / "p"), "--max-worker-memory", "lots"
    )
    assert code == ConfigError.exit_code and "run.max_worker_memory" in out and "a size such as" in out
    assert not (tmp_path / "p").exists()


def test_files_a_directory_walk_does_not_read_are_counted_not_lost(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "story.txt").write_text(GOOD)
    (dump / "story.json").write_text('{"title": "Tram line extension approved"}')  # a scraper's sidecar
    (dump / "photo.png").write_bytes(b"\x89PNG\r\n")
    (dump / ".DS_Store").write_bytes(b"\x00")
    code, out = invoke("run", str(dump), "-o", str(tmp_path / "o"), "--workers", "1")
    assert code == 0, out
    assert (
        f"not read: 2 file(s) in the input directories whose extension names no format, e.g. {dump / 'photo.png'}"
        in out
    )
    manifest = json.loads(OutputLayout(tmp_path / "o").manifest.read_text())
    assert manifest["counts"]["n_in"] == 1
    assert manifest["skipped_files"] == {
        "count": 2,
        "first": [str(dump / "photo.png"), str(dump / "story.json")],
    }
    assert manifest["saved_page_files"] == {"count": 0, "first": []}
    # named on the command line, the same file is sniffed and read: as JSONL, whose records have
    # no text field (a mapping mistake: exit 3, naming the fields it has)
    code, out = invoke("run", str(dump / "story.json"), "-o", str(tmp_path / "o2"), "--workers", "1")
    assert code == 3 and "not read" not in out
    assert "no field 'text' or 'html' in the only record (fields seen: 'title')" in out
    code, out = invoke("run", str(dump / "story.json"), "-o", str(tmp_path / "o3"), "--text-field", "title")
    assert code == 0, out
    assert json.loads(OutputLayout(tmp_path / "o3").manifest.read_text())["counts"]["n_in"] == 1


ARTICLE_HTML = (
    "<html><head><title>Tram line extension approved</title>"
    '<meta http-equiv="refresh" content="300"></head><body><article><h1>Tram line extension approved</h1>'
    "<p>The city council approved the tram extension to the new hospital on Tuesday evening, after a "
    "debate that lasted four hours.</p><p>Construction is due to start next spring and should take "
    "two years, the transport department said.</p></article></body></html>"
)


def test_redirect_stubs_are_dropped_and_a_saved_pages_folder_is_not_read(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    (dump / "story_files").mkdir(parents=True)
    (dump / "story.html").write_text(ARTICLE_HTML)  # auto-reloads every 5 minutes: kept
    (dump / "moved.html").write_text(
        '<html><head><meta http-equiv="refresh" content="0; url=https://news.example/tram">'
        "<title>Redirecting</title></head><body><p>If you are not redirected, "
        '<a href="https://news.example/tram">click here</a>.</p></body></html>'
    )
    frame = "<html><body><p>Advertisement: the best tram tickets in town, buy now and save.</p></body></html>"
    (dump / "story_files" / "ad_frame.htm").write_text(frame)
    (dump / "story_files" / "widget.html").write_text(frame)
    (dump / "story_files" / "style.css").write_text("p {}")
    code, out = invoke("run", str(dump), "-o", str(tmp_path / "o"), "--workers", "1")
    assert code == 0, out
    assert "dropped by stage/reason" in out and "extract/redirect_stub" in out
    assert (
        f"not read: 3 file(s) in the resource folders of saved web pages (page_files/ beside page.html: "
        f"iframes, ads, embeds), e.g. {dump / 'story_files' / 'ad_frame.htm'}"
    ) in out
    assert "names no format" not in out
    manifest = json.loads(OutputLayout(tmp_path / "o").manifest.read_text())
    c = manifest["counts"]
    assert (c["n_in"], c["n_kept"], c["n_dropped"], c["n_rejected"]) == (2, 1, 1, 0)
    assert manifest["stages"]["extract"]["dropped"] == {"redirect_stub": 1}
    assert manifest["skipped_files"]["count"] == 0 and manifest["saved_page_files"]["count"] == 3
    assert manifest["saved_page_files"]["first"][0] == str(dump / "story_files" / "ad_frame.htm")
    with gzip.open(OutputLayout(tmp_path / "o").left("dropped"), "rt") as f:
        (dropped,) = [json.loads(line) for line in f]
    assert (dropped["source"], dropped["stage"], dropped["reason"]) == (
        str(dump / "moved.html"),
        "extract",
        "redirect_stub",
    )
    assert "https://news.example/tram" in dropped["detail"]
    (kept,) = pq.read_table(tmp_path / "o").to_pylist()
    assert kept["source"] == str(dump / "story.html") and "four hours" in kept["text"]


def test_file_names_from_a_dump_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    # a name that retitles the terminal (OSC), with a byte UTF-8 cannot read: the summary and its
    # warning printed both raw (the warning's \xe9 as an undecodable byte), as did `error:` lines
    dump = tmp_path / "dump"
    dump.mkdir()
    with open(os.fsencode(dump) + b"/caf\xe9\x1b]0;owned\x07.js", "wb") as fh:
        fh.write(b"var x;")
    shown = f"{dump}/caf\\xe9\\x1b]0;owned\\x07.js"
    code, out = invoke("run", str(dump), "-o", str(tmp_path / "o"), "--workers", "1")
    assert code == 0, out
    assert f"names no format, e.g. {shown} (manifest" in out
    assert "warning: no document in the inputs (0 file(s) read); 1 file(s) in the input directories" in out
    assert f"(e.g. {shown})" in out and "\x1b" not in out and "\x07" not in out
    code, out = invoke("run", str(dump), "-o", str(tmp_path / "o2"), "--json")
    assert code == 0 and "warning: no document in the inputs" in out and "\x1b" not in out
    assert "\\udce9" not in out  # the JSON summary's warnings name the file as display_path does
    code, out = invoke("run", str(tmp_path / "gone\x1b]0;t\x07\u202e.html"), "-o", str(tmp_path / "o3"))
    assert code == 3 and f"error: input not found: {tmp_path}/gone\\x1b]0;t\\x07\\u202e.html" in out


def test_overwrite_replaces_cleanwire_files_only(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(GOOD)
    out = tmp_path / "o"
    (out / "notes").mkdir(parents=True)
    (out / "thesis.txt").write_text("mine")
    (out / "notes" / "n.csv").write_text("a,b\n")
    assert invoke("run", str(tmp_path / "d.txt"), "-o", str(out), "-w", "1", "--partition-by", "lang")[0] == 0
    assert (out / "lang=en" / "part-00000.parquet").is_file()
    code, text = invoke(
        "run", str(tmp_path / "d.txt"), "-o", str(out), "-w", "1", "--min-chars", "5", "--overwrite"
    )
    assert code == 0, text
    assert (out / "thesis.txt").read_text() == "mine" and (out / "notes" / "n.csv").is_file()
    assert not (out / "lang=en").exists()  # the old run's partition, emptied, is gone
    assert (out / "part-00000.parquet").is_file()
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    assert manifest["config"]["filter"]["min_chars"] == 5 and manifest["counts"]["n_kept"] == 1


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_output_directory_holding_another_tools_parquet_is_refused(
    tmp_path: Path, overwrite: bool
) -> None:
    # every reader of the output (read_parquet('out/**/*.parquet'), pandas, pyarrow) would
    # take that file for kept records
    import pyarrow as pa

    (tmp_path / "d.txt").write_text(GOOD)
    out = tmp_path / "o"
    (out / "old").mkdir(parents=True)
    pq.write_table(pa.table({"x": [1, 2]}), out / "old" / "data.parquet")
    (out / "_ignored.parquet").write_bytes(b"readers skip names starting with _")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    args = [
        "run",
        str(tmp_path / "d.txt"),
        "-o",
        str(out),
        "-w",
        "1",
        *(["--overwrite"] if overwrite else []),
    ]
    code, text = invoke(*args)
    assert code == 4, text
    assert "Parquet files cleanwire did not write (old/data.parquet)" in text
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before  # nothing written
    (out / "old" / "data.parquet").unlink()
    code, text = invoke(*args)
    assert code == 0, text
    assert pq.read_table(out / "part-00000.parquet").num_rows == 1


def test_an_output_directory_overlapping_the_inputs_never_eats_them(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "a.txt").write_text(GOOD)
    # the output is the input: refused before anything is written or removed
    code, text = invoke("run", str(dump), "-o", str(dump), "-w", "1", "--overwrite")
    assert code == 4 and "is also an input" in text
    assert sorted(p.name for p in dump.iterdir()) == ["a.txt"]
    # the output inside the input: the walk leaves it out, so a rerun is up to date
    for _ in range(2):
        code, text = invoke("run", str(dump), "-o", str(dump / "clean"), "-w", "1")
        assert code == 0, text
    manifest = json.loads(OutputLayout(dump / "clean").manifest.read_text())
    assert manifest["counts"]["n_in"] == 1 and manifest["skipped_files"]["count"] == 0
    # a file of an output read back into the same output: refused
    code, text = invoke(
        "run", str(dump / "clean" / "part-00000.parquet"), "-o", str(dump / "clean"), "-w", "1"
    )
    assert code == 4 and "file of the output directory" in text
    # the input inside the output, replaced with --overwrite: the input stays
    shutil.rmtree(dump / "clean")
    for _ in range(2):
        code, text = invoke("run", str(dump), "-o", str(tmp_path), "-w", "1", "--overwrite")
        assert code == 0, text
    assert (dump / "a.txt").read_text() == GOOD


def test_learn_sites_maps_the_input_fields_as_its_hint_says(tmp_path: Path) -> None:
    """learn-sites' reader says `map the field with --text-field body`: the option exists there."""
    rows = [
        {
            "id": str(i),
            "link": f"https://harbour.example/news/{i}",
            "body": f"{story}\n\nGet the Harbour Briefing in your inbox every morning",
        }
        for i, story in enumerate(
            [
                "The ferry sailed on time today, the harbour master said.",
                "Councillors approved the new library budget after a long debate.",
                "A storm closed the coast road for most of Sunday afternoon.",
                "The lifeboat crew rescued two walkers stranded by the tide.",
            ]
        )
    ]
    data = tmp_path / "mine.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out = invoke("learn-sites", str(data), "-o", str(tmp_path / "sites.toml"))
    assert code == 3 and "map the field with --text-field body" in out
    code, out = invoke(
        "learn-sites",
        str(data),
        "-o",
        str(tmp_path / "sites.toml"),
        "--text-field",
        "body",
        "--url-field",
        "link",
    )
    assert code == 0, out
    assert "learned 1 line(s) for 1 site(s)" in out and "harbour.example (1)" in out
