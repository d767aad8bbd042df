"""language: langdetect, seeded, bounded, never raising."""

from __future__ import annotations

import pytest

from pipeline.core.config import LanguageConfig
from stages.language.detector import detect, sample

SENTENCES = {
    "en": "The council approved the new budget after a long debate about the cost of repairing the bridge.",
    "de": "Der Gemeinderat hat den neuen Haushalt nach einer langen Debatte über die Brückensanierung beschlossen.",
    "fr": "Le conseil municipal a adopté le nouveau budget après un long débat sur la rénovation du pont.",
    "es": "El ayuntamiento aprobó el nuevo presupuesto tras un largo debate sobre la reparación del puente.",
    "it": "Il consiglio comunale ha approvato il nuovo bilancio dopo un lungo dibattito sul restauro del ponte.",
    "nl": "De gemeenteraad heeft de nieuwe begroting goedgekeurd na een lang debat over de renovatie van de brug.",
    "pt": "A câmara municipal aprovou o novo orçamento depois de um longo debate sobre a reparação da ponte.",
}


@pytest.mark.parametrize(("lang", "text"), sorted(SENTENCES.items()))
def test_detects_news_sentences(lang: str, text: str) -> None:
    got, prob = detect(text)
    assert got == lang
    assert prob > 0.9


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12345 67890 2023-01-01",
        "https://example.com/a/b?c=d www.example.org",
        "🙂🎉🔥👍",
        "ok",
        "@@@ ### !!!",
    ],
)
def test_undetermined_for_empty_short_or_featureless_text(text: str) -> None:
    assert detect(text) == ("und", 0.0)


def test_deterministic_with_a_seed_and_independent_of_global_state() -> None:
    import langdetect

    text = "Ambiguous short text maybe"
    first = detect(text)
    langdetect.DetectorFactory.seed = 12345  # someone else's global must not change our answer
    assert all(detect(text) == first for _ in range(5))


def test_long_text_is_sampled_from_start_middle_and_end() -> None:
    text = "a" * 1000 + "MIDDLE" + "b" * 1000 + "END"
    s = sample(text, 300)
    assert len(s) <= 302 and s.startswith("a") and "MIDDLE" in s and s.endswith("END")
    assert detect(SENTENCES["fr"] * 200, LanguageConfig(sample_chars=600))[0] == "fr"


@pytest.mark.parametrize("size", [1, 2, 3, 4, 30])
def test_a_sample_is_bounded_however_small_sample_chars_is(size: int) -> None:
    # sample_chars = 1 or 2 (allowed: at least 1) made a third of 0, and text[-0:] is all of it
    text = SENTENCES["de"] * 100
    got = sample(text, size)
    assert len(got) <= size + 2 and got.startswith(text[: max(size // 3, 1)])
    if size < LanguageConfig().min_chars:  # a sample with fewer letters than min_chars
        assert detect(text, LanguageConfig(sample_chars=size)) == ("und", 0.0)


def test_min_prob_gives_und_with_the_probability() -> None:
    lang, prob = detect(SENTENCES["en"], LanguageConfig(min_prob=1.01))
    assert lang == "und" and 0.9 < prob <= 1.0


@pytest.mark.parametrize(("lang", "text"), sorted(SENTENCES.items()))
def test_default_backend_gives_langdetects_answer_and_fast_backend_agrees(lang: str, text: str) -> None:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    detector = factory.create()
    detector.seed = 0
    detector.append(text)
    best = detector.get_probabilities()[0]
    assert detect(text) == (best.lang, best.prob)  # exactly langdetect's answer
    assert detect(text, LanguageConfig(backend="langdetect-library")) == (best.lang, best.prob)
    assert LanguageConfig().backend == "langdetect"
    fast_lang, fast_prob = detect(text, LanguageConfig(backend="fast"))
    assert fast_lang == lang and fast_prob > 0.9
