"""The benchmark harness runs end to end on a tiny corpus, and its parts measure what they say.
No timings are asserted: only that the run completes and reports every figure."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from bench import aeb
from bench.corpus import build_html, build_text, fallback_pool, paragraph_pool, synth_text
from bench.measure import tree_pids, tree_rss
from pipeline.io.layout import OutputLayout

REPO = Path(__file__).resolve().parent.parent


def test_text_corpus_is_deterministic_distinct_and_seed_sized(tmp_path: Path) -> None:
    pool = fallback_pool()
    a = build_text(tmp_path / "a.jsonl", pool, 30)
    b = build_text(tmp_path / "b.jsonl", pool, 30)
    assert a.path.read_bytes() == b.path.read_bytes()
    rows = [json.loads(line) for line in a.path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == a.n_docs == 30
    assert len({r["text"] for r in rows}) > 25
    assert all(len(r["text"]) >= 3000 for r in rows)
    assert a.n_bytes == sum(len(r["text"].encode()) for r in rows)


def test_synth_text_keeps_the_base_title_first() -> None:
    import random

    pool = [["Title line", "body one", "body two"], ["Other", "x", "y"]]
    text = synth_text(random.Random(1), pool, 50)
    assert text.split("\n\n")[0] in {"Title line", "Other"}


def test_html_corpus_cycles_pages_with_distinct_ids(tmp_path: Path) -> None:
    from bench.corpus import Page

    pages = [Page("t/1", "https://a.example/1", "<p>one</p>"), Page("t/2", None, "<p>two</p>")]
    corpus = build_html(tmp_path / "h.jsonl", pages, 5)
    ids = [json.loads(line)["id"] for line in corpus.path.read_text().splitlines()]
    assert ids == ["t/1", "t/2", "t/1~1", "t/2~1", "t/1~2"]


def test_tree_rss_counts_children() -> None:
    if not Path("/proc/self/statm").exists():
        pytest.skip("needs /proc")
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(50_000_000); time.sleep(3)"])
    try:
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tree_rss(os.getpid()) - tree_rss(child.pid) <= 0:
            time.sleep(0.05)
        assert child.pid in tree_pids(os.getpid())
        assert tree_rss(os.getpid()) > tree_rss(child.pid) > 0
    finally:
        child.kill()
        child.wait()


def test_aeb_metric_worked_example() -> None:
    score = aeb.score({"p": "a b c d e"}, {"p": "a b c d"})
    assert (score.precision, score.recall) == (1.0, 0.5)
    assert aeb.score({"p": "a b c d e"}, {}).recall == 0.0


@pytest.mark.eval
def test_aeb_metric_reproduces_the_published_trafilatura_row(eval_dir: Path) -> None:
    baseline = eval_dir / "aeb" / "baselines" / "trafilatura.json"
    if not baseline.exists():
        pytest.skip("AEB baselines not present")
    gold = aeb.load_gold(eval_dir)
    output = json.loads(baseline.read_text(encoding="utf-8"))["output"]
    pred = {f"aeb/{k}": (v.get("articleBody") or "") for k, v in output.items()}
    score = aeb.score(gold, pred)
    assert (round(score.f1, 3), round(score.precision, 3), round(score.recall, 3)) == (0.964, 0.952, 0.975)


@pytest.mark.slow
def test_bench_quick_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "bench", "--quick", "--html-docs", "3", "--text-docs", "20"]
    cmd += ["--workers", "1,2", "--json", str(out), "--workdir", str(tmp_path / "work")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "targets" in done.stdout and "docs/s" in done.stdout
    results = json.loads(out.read_text())
    arms = {a["arm"]: a for a in results["text"]["arms"]}
    assert set(arms) == {"naive", "cleanwire-w1", "cleanwire-w2"}
    assert all(a["n_docs"] == 20 and a["docs_per_s"] > 0 and a["peak_rss"] > 0 for a in arms.values())
    # each command again on the corpus's first 10 records: its fixed seconds, about the whole run's
    assert all(0 < a["fixed_s"] < a["seconds"] + 1.0 for a in arms.values())
    assert "fixed s" in done.stdout and "steady docs/s" in done.stdout
    assert arms["cleanwire-w1"]["shares"].get("language", 0) > 0
    names = {c["name"] for c in results["checks"]}
    assert "text: cleanwire 1 worker / naive (docs/s)" in names
    assert "text: cleanwire 2 workers / 1 worker" in names
    assert "text: start-up, `cleanwire run` / naive s on 10 records" in names
    assert "text: 2 workers / 1 over the machine's 2 processes / 1" in names
    # the command as typed (no --workers) and the 1-worker arm's, both on the first 10 records
    assert len(results["text"]["start_up_ratio"]) == len(results["text"]["start_up_ratio_workers_1"]) == 1
    assert "cleanwire run (no --workers):" in done.stderr
    assert "the machine itself: 2 processes / 1 =" in done.stdout
    # measured, not judged: on this VM a few seconds of work in two processes once came out
    # outside 0.5-2.5x one process (a slowed lone run), so only check each ratio was measured
    for key in ("machine_two_process_scaling", "workload_two_process_scaling", "pool_two_worker_scaling"):
        assert results["text"][key] and all(0 < v < 10 for v in results["text"][key])
    assert "on this stage work without a pool" in done.stdout
    assert "the pool alone on it (batches built beforehand, no reading or writing)" in done.stdout
    if "html" in results:
        assert results["html"]["corpus"]["docs"] == 3


def test_paragraph_pool_falls_back_without_eval_data(tmp_path: Path) -> None:
    assert paragraph_pool(tmp_path, None) == []
    assert len(fallback_pool()) >= 2


def test_profile_names_the_stages_and_the_hot_functions(tmp_path: Path) -> None:
    from bench.profile import profile_cleanwire

    corpus = build_text(tmp_path / "t.jsonl", fallback_pool(), 12)
    text = profile_cleanwire(corpus, tmp_path / "out", top=40)
    assert "cleanwire in one process on 12 text records" in text
    assert "language" in text.splitlines()[1] and "boilerplate" in text.splitlines()[1]
    assert "/stages/" in text  # the stages' own functions are among the hottest
    assert OutputLayout(tmp_path / "out").manifest.exists()


def test_rates_ratios_and_shares_use_the_whole_commands_time() -> None:
    from bench.arms import ArmResult
    from bench.measure import Measured
    from bench.report import paired_ratios, summarize

    def run(arm: str, loop_s: float, wall: float, workers: int = 1) -> Measured:
        return Measured(ArmResult(arm, 100, {"extract": loop_s / 2}, workers), 0, wall)

    naive = [run("naive", 9.0, 10.0), run("naive", 18.0, 20.0)]
    fast = [run("cw", 4.0, 5.0), run("cw", 4.5, 5.0)]
    assert paired_ratios(fast, naive) == [2.0, 4.0]  # 10/5 and 20/5: walls, not loops
    summary = summarize("cw", fast, corpus_bytes=1_000_000)
    assert summary.seconds == 5.0 and summary.docs_per_s == 20.0
    assert summary.shares == {"extract": 4.25 / 10}  # stage seconds over end-to-end seconds


def test_steady_figures_take_each_repeats_fixed_seconds_off() -> None:
    from bench.arms import ArmResult
    from bench.measure import Measured
    from bench.report import steady_ratios, summarize

    def run(wall: float) -> Measured:
        return Measured(ArmResult("cw", 100, {}, 1), 0, wall)

    one, two = [run(11.0), run(13.0)], [run(7.0), run(6.0)]
    # (11 - 1) / (7 - 2) and (13 - 3) / (6 - 1): the fixed seconds of the same repeat
    assert steady_ratios(two, one, [2.0, 1.0], [1.0, 3.0]) == [2.0, 2.0]
    assert steady_ratios(two, one, [4.0, 1.0], [1.0, 3.0]) == [2.0]  # fixed > half the run: left out
    from bench.__main__ import Runs, ratio

    runs = Runs({"one": one, "two": two}, {"one": [1.0, 3.0], "two": [2.0, 1.0]}, {})
    value, detail = ratio(runs, "two", "one")
    assert value == statistics.median([11 / 7, 13 / 6])  # whole commands
    assert detail.endswith("without start-up and exit: 2.00")
    summary = summarize("cw", one, corpus_bytes=1, fixed=[1.0, 3.0])
    assert summary.fixed_s == 2.0 and summary.steady_docs_per_s == 10.0
    assert summarize("cw", one, corpus_bytes=1).steady_docs_per_s == 0.0  # not measured


def test_neardup_bench_runs_its_arms_on_a_tiny_corpus(tmp_path: Path) -> None:
    """``python -m bench.neardup``: three arms and the key table's figures (no timing asserted)."""
    out = tmp_path / "neardup.json"
    args = [
        "--text-docs",
        "12",
        "--repeats",
        "1",
        "--workers",
        "1",
        "--index-docs",
        "3000",
        "--json",
        str(out),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "bench.neardup", *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["arms"]) >= {"exact", "near-off", "near-on", "drop_vs_exact"}
    assert report["arms"]["near-on"]["dropped"].get("near_dedup/near_duplicate", 0) >= 1
    assert report["index"]["bytes_per_doc"] == 312
    assert "near-on vs exact" in done.stdout


def test_quality_is_scored_on_each_gold_set_in_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AEB and WCXB pages of the HTML corpus are each scored with the AEB metric, every cleanwire
    arm against the naive loop; a set with no page in the corpus is left out."""
    import bench.__main__ as main
    from bench.report import Report

    for prefix, body in (("aeb", "one two three four"), ("wcxb", "five six seven eight")):
        (tmp_path / prefix).mkdir()
        gold = {"p1": {"articleBody": body}, "p2": {"articleBody": body}}
        (tmp_path / prefix / "ground-truth.json").write_text(json.dumps(gold))
    preds = {
        "naive": {"wcxb/p1": "five six", "wcxb/p2": "five six seven eight"},
        "cleanwire-w1": {"wcxb/p1": "five six seven eight", "wcxb/p2": "five six seven eight"},
    }
    monkeypatch.setattr(main, "predictions", lambda work, kind, name: preds[name])
    settings = main.Settings(("html",), 2, 0, ("wcxb",), 1, (1,), (), tmp_path, None, None)
    report = Report()
    scores = main.aeb_check(settings, tmp_path, ["naive", "cleanwire-w1"], report)
    assert set(scores) == {"wcxb:naive", "wcxb:cleanwire-w1"}  # no AEB page in the corpus
    assert scores["wcxb:cleanwire-w1"] == 1.0 > scores["wcxb:naive"]
    (check,) = report.checks
    assert check.name == "html: AEB F1 on WCXB cleanwire-w1 - naive" and check.value > 0
