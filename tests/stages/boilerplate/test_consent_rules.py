"""The reCAPTCHA notice and the cookie banner that names the site: removed in any of the seven
languages, glued or on their own line, and the story around them kept."""

from __future__ import annotations

import pytest

from pipeline import clean_text

STORY = "The council approved the budget on Monday after a long debate.\n\nIt will meet again next week."


@pytest.mark.parametrize(
    "notice",
    [
        "This site is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply.",
        "Ce site est protégé par reCAPTCHA. Les règles de confidentialité et les conditions d’utilisation de Google s’appliquent.",
        "CE SITE EST PROTÉGÉ PAR RECAPTCHA. LES RÈGLES DE CONFIDENTIALITÉ ET LES CONDITIONS D’UTILISATION DE GOOGLE S’APPLIQUENT.",
        "Este sitio está protegido por reCAPTCHA y se aplican la Política de privacidad y los Términos de servicio de Google.",
    ],
)
def test_a_recaptcha_notice_glued_to_a_sentence_goes_and_the_sentence_stays(notice: str) -> None:
    glued = f"Harbour plans approved\n\n{notice}The harbour wall will be rebuilt next spring.\n\n{STORY}"
    cleaned = clean_text(glued)
    assert "reCAPTCHA".lower() not in cleaned.text.lower()
    assert "The harbour wall will be rebuilt next spring." in cleaned.text
    assert STORY in cleaned.text
    assert [r.rule for r in cleaned.removed if "captcha" in r.snippet.lower()] == ["signup.recaptcha"]


def test_a_story_about_recaptcha_is_kept() -> None:
    story = (
        "Bot checks under scrutiny\n\nResearchers found that reCAPTCHA sends data to Google, the study said. "
        "The company said it would review the findings.\n\n" + STORY
    )
    assert clean_text(story).text == story


@pytest.mark.parametrize(
    "banner",
    [
        "This site uses cookies to remember your preferences and measure how people use it. You can change your settings at any time.",
        "THIS WEBSITE USES COOKIES TO REMEMBER YOUR PREFERENCES.",
        "Questo sito utilizza cookie per analizzare il traffico e personalizzare i contenuti.",
    ],
)
def test_a_cookie_banner_that_names_the_site_goes_without_naming_the_experience(banner: str) -> None:
    cleaned = clean_text(f"Harbour plans approved\n\n{banner}\n\n{STORY}")
    assert "cookie" not in cleaned.text.lower()
    assert STORY in cleaned.text


def test_we_use_cookies_still_needs_a_word_of_the_website() -> None:
    story = f"Bake sale raises funds\n\nWe use cookies from a family bakery for the charity sale every year.\n\n{STORY}"
    assert "We use cookies from a family bakery" in clean_text(story).text
