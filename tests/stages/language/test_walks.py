"""stages.language.walks: a batch's walks side by side give every text exactly the walk it gets
alone (:func:`fastdetect.langdetect_walk`, itself checked against langdetect)."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pipeline  # noqa: F401 - the package imports stages in the right order
from pipeline.core.config import LanguageConfig
from pipeline.core.record import Doc
from pipeline.execution.chain import run_docs
from stages.language import fastdetect, walks
from stages.language.detector import DetectLanguage, detect
from tests.conftest import FIXTURES
from tests.stages.language.test_fastdetect import SAMPLES

SENTENCES = [
    json.loads(line)["text"]
    for line in (FIXTURES / "eval" / "langid" / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
]


def _picks(text: str) -> list[int]:
    return fastdetect.extract_ngrams(fastdetect.prepare(text), fastdetect.profiles().ids)


def test_the_word_stream_is_pythons_random_stream_past_its_first_block() -> None:
    rng = random.Random()
    rng.seed(7)
    expected = [rng.getrandbits(32) for _ in range(70_000)]  # past the first 65,536 words
    assert walks.words(7, 70_000)[:70_000].tolist() == expected
    assert walks.exact_stream_available()


class _SlowTwister:
    """A twister that takes its time to draw: threads growing one stream overlap for sure."""

    def __init__(self, twister: Any) -> None:
        self.twister = twister

    def random_raw(self, n: int) -> Any:
        time.sleep(0.05)
        return self.twister.random_raw(n)


def test_threads_growing_one_stream_at_once_all_get_pythons_random_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # clean_text may run in many threads: two growing the shared stream together each appended
    # their own words from the one generator, and every later walk with that seed was wrong
    twister = walks.python_twister
    monkeypatch.setattr(walks, "python_twister", lambda seed: _SlowTwister(twister(seed)))
    monkeypatch.setattr(walks, "_STREAMS", {})
    seed = 424242
    first = len(walks.words(seed, 1))  # the stream and its generator exist: now grow it at once
    barrier = threading.Barrier(4)

    def grow(k: int) -> list[int]:
        barrier.wait()
        return [int(w) for w in walks.words(seed, first + 1000 * (k + 1))[: first + 1000]]

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(grow, range(4)))
    stream = walks.words(seed, 0).tolist()
    rng = random.Random()
    rng.seed(seed)
    expected = [rng.getrandbits(32) for _ in range(len(stream))]
    assert got == [expected[: first + 1000]] * 4
    assert stream == expected


@pytest.mark.parametrize("seed", [0, 3])
def test_a_batch_gives_each_text_its_own_walk_bit_for_bit(seed: int) -> None:
    texts = [*SAMPLES, *SENTENCES, " ".join(SAMPLES) * 3, "a b c d e f g", "Ok. Zo. Ja."]
    many = [p for p in map(_picks, texts) if p]
    many += [many[0][:1], many[1][:2]]  # one or two n-grams: the smallest draws
    table = fastdetect.profiles().table
    alone = [fastdetect.langdetect_walk(p, table, seed) for p in many]
    assert walks.langdetect_walks(many, table, seed) == alone
    assert walks.langdetect_walks(many[::-1], table, seed) == alone[::-1]  # order does not matter


def test_a_walk_that_never_converges_stops_at_the_iteration_limit_as_alone() -> None:
    # two "languages" no n-gram tells apart: every trial runs its 1,001 draws
    table = np.full((4, 2), 0.25)
    many = [[0, 1, 2, 3], [1, 2], [3]]
    alone = [fastdetect.langdetect_walk(p, table, 0) for p in many]
    assert walks.langdetect_walks(many, table, 0) == alone
    assert alone[0] == pytest.approx([0.5, 0.5])


def test_the_stage_tags_a_batch_as_detect_tags_each_record() -> None:
    texts = [*SAMPLES, *SENTENCES, "", "12345 67890", "ok"]
    docs = [Doc(id=str(i), source="s", raw=t, text=t) for i, t in enumerate(texts)]
    stage = DetectLanguage(LanguageConfig())
    run_docs([stage], docs)
    assert [(d.lang, d.lang_prob) for d in docs] == [detect(t) for t in texts]
    assert docs[-2].lang == "und" and docs[0].lang == "en"
    assert stage.stats.n_in == len(texts)


def test_other_backends_tag_one_record_at_a_time_with_their_own_answer() -> None:
    cfg = LanguageConfig(backend="fast")
    docs = [Doc(id=str(i), source="s", raw=t, text=t) for i, t in enumerate(SAMPLES)]
    run_docs([DetectLanguage(cfg)], docs)
    assert [(d.lang, d.lang_prob) for d in docs] == [detect(t, cfg) for t in SAMPLES]


@pytest.mark.eval
def test_a_batch_equals_the_walks_alone_on_51_languages(eval_dir: Path) -> None:
    path = eval_dir / "langid" / "sentences.jsonl"
    if not path.exists():
        pytest.skip("langid sentences not present")
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()][::3]
    many = [p for p in map(_picks, texts) if p]
    table = fastdetect.profiles().table
    assert walks.langdetect_walks(many, table, 0) == [fastdetect.langdetect_walk(p, table, 0) for p in many]


def test_where_the_stream_cannot_be_reproduced_the_stage_detects_one_record_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(walks, "exact_stream_available", lambda: False)
    monkeypatch.setattr(walks, "langdetect_walks", _refuse)
    docs = [Doc(id=str(i), source="s", raw=t, text=t) for i, t in enumerate(SAMPLES)]
    run_docs([DetectLanguage(LanguageConfig())], docs)
    assert [(d.lang, d.lang_prob) for d in docs] == [detect(t) for t in SAMPLES]


def _refuse(*args: object) -> list[list[float]]:
    raise AssertionError("the batched walk must not run")
