"""stages.language.fastdetect: langdetect's n-grams and answers exactly; the vectorised walk keeps its accuracy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pipeline  # noqa: F401 - the package imports stages in the right order
from stages.language import fastdetect

SAMPLES = [
    "The council approved a 4.9 percent rise in the borough's share of council tax.",
    "Le conseil municipal a approuvé jeudi une hausse de la taxe d'habitation.",
    "Der Stadtrat hat am Donnerstag eine Erhöhung der Grundsteuer beschlossen.",
    "Городской совет в четверг одобрил повышение местного налога на имущество.",
    "市议会周四批准了提高地方财产税的方案，居民对此表示担忧。",
    "東京都は木曜日、新しい予算案を発表しました。ひらがなとカタカナ。",
    "서울시는 목요일 새로운 예산안을 발표했습니다.",
    "Hội đồng thành phố đã phê duyệt việc tăng thuế vào thứ Năm.",  # Vietnamese normalisation
    "Consiliul a aprobat creșterea taxei și a impozitului",  # Romanian comma-below letters
    "NASA and the ESA SAID SO   in   http://example.com/x mail me at a@b.org",  # capitals, URL, mail
    "مجلس المدينة وافق على زيادة الضرائب یک",  # Farsi yeh
    "ABC xyz ÀÉÎ abc",
]


def _langdetect_ngrams(text: str) -> list[str]:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = _factory(PROFILES_DIRECTORY, DetectorFactory)
    detector = factory.create()
    detector.append(text)
    detector.cleaning_text()
    return list(detector._extract_ngrams())


_FACTORY: list[Any] = []


def _factory(directory: str, cls: Any) -> Any:
    if not _FACTORY:
        f = cls()
        f.load_profile(directory)
        _FACTORY.append(f)
    return _FACTORY[0]


def _ours(text: str) -> list[str]:
    prof = fastdetect.profiles()
    words = list(prof.ids)
    return [words[i] for i in fastdetect.extract_ngrams(fastdetect.prepare(text), prof.ids)]


@pytest.mark.parametrize("text", SAMPLES)
def test_ngrams_are_langdetects(text: str) -> None:
    assert _ours(text) == _langdetect_ngrams(text)


def _library(text: str, seed: int) -> list[tuple[str, float]] | None:
    """langdetect's own answer (None where it raises "No features in text")."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory(PROFILES_DIRECTORY, DetectorFactory).create()
    detector.seed = seed
    detector.append(text)
    try:
        return [(str(p.lang), float(p.prob)) for p in detector.get_probabilities()]
    except LangDetectException:
        return None


def _exact(text: str, seed: int) -> list[tuple[str, float]] | None:
    try:
        return fastdetect.probabilities(text, seed, exact=True)
    except fastdetect.NoFeatures:
        return None


@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize("text", SAMPLES)
def test_exact_walk_returns_langdetects_answer_bit_for_bit(text: str, seed: int) -> None:
    assert _exact(text, seed) == _library(text, seed)


def test_exact_walk_on_long_mixed_text_and_ambiguous_text() -> None:
    # long enough to run many steps; mixed scripts and near-ties exercise the convergence checks
    texts = [" ".join(SAMPLES) * 3, "Bonjour hello hallo hola ciao", "a b c d e f g", "Ok. Zo. Ja."]
    for text in texts:
        for seed in range(5):
            assert _exact(text, seed) == _library(text, seed), (text, seed)


def test_no_features_raises_and_results_are_deterministic() -> None:
    with pytest.raises(fastdetect.NoFeatures):
        fastdetect.probabilities("1234 5678 !!! ...")
    text = SAMPLES[1]
    for exact in (True, False):
        first = fastdetect.probabilities(text, seed=0, exact=exact)
        assert first == fastdetect.probabilities(text, seed=0, exact=exact)
        assert first[0][0] == "fr"
        assert abs(sum(p for _, p in first) - 1.0) < 0.2


def _sentences(eval_dir: Path) -> list[dict[str, str]]:
    path = eval_dir / "langid" / "sentences.jsonl"
    if not path.exists():
        pytest.skip("langid sentences not present")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.eval
def test_ngrams_match_langdetect_on_51_languages(eval_dir: Path) -> None:
    rows = _sentences(eval_dir)[::7]
    for row in rows:
        assert _ours(row["text"]) == _langdetect_ngrams(row["text"]), row["text"]


@pytest.mark.eval
def test_exact_walk_equals_langdetect_on_51_languages(eval_dir: Path) -> None:
    rows = _sentences(eval_dir)[::3]
    mismatched = [row["text"] for row in rows if _exact(row["text"], 0) != _library(row["text"], 0)]
    assert mismatched == []


@pytest.mark.eval
@pytest.mark.slow
def test_accuracy_not_below_langdetect_seed_0(eval_dir: Path) -> None:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    factory = _factory(PROFILES_DIRECTORY, DetectorFactory)
    rows = _sentences(eval_dir)
    ours = theirs = agree = 0
    for row in rows:
        detector = factory.create()
        detector.seed = 0
        detector.append(row["text"])
        try:
            ref = detector.get_probabilities()[0].lang
        except LangDetectException:
            ref = "und"
        try:
            got = fastdetect.probabilities(row["text"], seed=0, exact=False)[0][0]
        except (fastdetect.NoFeatures, IndexError):
            got = "und"
        ours += got == row["langdetect"]
        theirs += ref == row["langdetect"]
        agree += got == ref
    assert ours >= theirs, (ours, theirs)
    assert agree / len(rows) >= 0.98


def test_profiles_equal_langdetects() -> None:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = _factory(PROFILES_DIRECTORY, DetectorFactory)
    prof = fastdetect.profiles()
    assert prof.langs == tuple(factory.langlist)
    known = {w: p for w, p in factory.word_lang_prob_map.items() if 1 <= len(w) <= 3}
    assert set(prof.ids) == set(known)
    for word in list(known)[::97]:
        assert prof.table[prof.ids[word]].tolist() == known[word], word


def test_exact_walk_falls_back_to_random_choice_where_randbelow_differs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random

    original = random.Random._randbelow_with_getrandbits  # type: ignore[attr-defined]
    calls: list[int] = []

    def counting(self: random.Random, n: int) -> int:
        calls.append(n)
        return int(original(self, n))

    monkeypatch.setattr(random.Random, "_randbelow", counting)
    text = SAMPLES[2]
    got = _exact(text, 3)
    assert calls  # the walk went through Random.choice, not the inlined draw
    assert got == _library(text, 3)


def test_profiles_cache_gives_the_same_profiles_and_survives_a_bad_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    monkeypatch.setenv("CLEANWIRE_CACHE_DIR", str(tmp_path / "cache"))
    built = fastdetect.build_profiles()
    try:
        fastdetect.profiles.cache_clear()
        first = fastdetect.profiles()  # builds and writes the cache
        files = sorted(p.name for p in (tmp_path / "cache").iterdir())
        assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".npy")
        fastdetect.profiles.cache_clear()
        cached = fastdetect.profiles()  # maps the cached matrix
        assert not cached.table.flags.writeable and first.table.flags.writeable  # mapped read-only
        assert type(cached.table) is np.ndarray  # a plain view: np.memmap indexing is slow
        for prof in (first, cached):
            assert prof.langs == built.langs and prof.ids == built.ids
            assert np.array_equal(prof.table, built.table)
        text = SAMPLES[1]
        assert _exact(text, 0) == _library(text, 0)  # answers from the cached matrix are langdetect's
        for path in (tmp_path / "cache").iterdir():
            path.write_bytes(b"garbage")
        fastdetect.profiles.cache_clear()
        rebuilt = fastdetect.profiles()  # unreadable cache: rebuilt from langdetect's files
        assert rebuilt.ids == built.ids and np.array_equal(rebuilt.table, built.table)
    finally:
        fastdetect.profiles.cache_clear()
