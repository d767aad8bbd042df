"""A news story about reCAPTCHA and Google's privacy terms is kept: ``signup.recaptcha`` takes
the notice a protected form shows ('... protected by reCAPTCHA ...'), in any language, not a
sentence that names reCAPTCHA, Google and privacy or terms in any order."""

from __future__ import annotations

import pytest

from pipeline import clean_text

STORY = "The council approved the budget on Monday after a long debate.\n\nIt will meet again next week."


@pytest.mark.parametrize(
    "paragraph",
    [
        "Critics say reCAPTCHA, which Google bought in 2009, has privacy problems.",
        "Security researchers say reCAPTCHA collects more data than it needs. Under its terms of "
        "service, Google may keep that data for years, they added.",
        "Web sites use reCAPTCHA to stop bots. The privacy watchdog said on Tuesday it would question Google.",
        "Mehr als vier Millionen Seiten nutzen reCAPTCHA. Die Datenschutzbehörde prüft nun Google.",
    ],
)
def test_a_news_sentence_about_recaptcha_and_google_privacy_is_kept(paragraph: str) -> None:
    text = f"Bot checks under scrutiny\n\n{paragraph}\n\n{STORY}"
    assert clean_text(text).text == text


@pytest.mark.parametrize(
    "notice",
    [
        "This form is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply.",
        "Diese Seite ist durch reCAPTCHA geschützt. Es gelten die Datenschutzerklärung und die Nutzungsbedingungen von Google.",
        "Questo sito è protetto da reCAPTCHA e si applicano le Norme sulla privacy e i Termini di servizio di Google.",
        "Este site está protegido por reCAPTCHA e aplicam-se a Política de Privacidade e os Termos de Serviço da Google.",
        "Deze site wordt beschermd door reCAPTCHA; het privacybeleid en de servicevoorwaarden van Google zijn van toepassing.",
        "Cette page est protégée par reCAPTCHA. Les règles de confidentialité et les conditions d’utilisation de Google s’appliquent.",
    ],
)
def test_the_notice_of_a_protected_form_still_goes(notice: str) -> None:
    cleaned = clean_text(
        f"Harbour plans approved\n\n{notice}The harbour wall will be rebuilt next spring.\n\n{STORY}"
    )
    assert "recaptcha" not in cleaned.text.lower()
    assert "The harbour wall will be rebuilt next spring." in cleaned.text
