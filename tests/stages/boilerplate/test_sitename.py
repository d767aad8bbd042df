"""The site's own name in a line (:mod:`stages.boilerplate.sitename`)."""

from __future__ import annotations

import pytest

from stages.boilerplate.sitename import SiteName, host_label


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://www.dagbladhoorndijk.nl/x", "dagbladhoorndijk"),
        ("https://skerryherald.co.uk/a/b", "skerryherald"),
        ("https://www.seelaender-nachrichten.ch/", "seelaendernachrichten"),
        ("https://news.harbourgazette.com/x", "harbourgazette"),
        ("https://www.bbc.co.uk/news", None),  # too short: too many words spell it by chance
        ("https://localhost/x", None),
        (None, None),
    ],
)
def test_host_label(url: str | None, label: str | None) -> None:
    assert host_label(url) == label


@pytest.mark.parametrize(
    ("url", "line", "named"),
    [
        ("https://www.diariodaserranova.pt/x", "Aceito receber comunicações de Diário da Serra Nova.", True),
        ("https://www.dagbladhoorndijk.nl/x", "Aanbiedingen van Dagblad van Hoorndijk ontvangen.", True),
        ("https://www.ecodicastelfiume.it/x", "Nella redazione di L'Eco di Castelfiume.", True),
        ("https://skerryherald.com/x", "The best of Skerry Isles Herald, every evening", True),
        ("https://www.seelaender-nachrichten.ch/x", "Ein Angebot der Seeländer Nachrichten", True),
        ("https://newsflowhub.com/x", "Umar Tennant has been with NewsFlow Hub since 2019.", True),
        ("https://nachrichtennetz24.de/x", "Um NachrichtenNetz24 kostenlos anbieten zu können", True),
        ("https://www.correodesantaines.mx/x", "Redacción de El Correo de Santa Inés.", True),
        # the words must spell the name in order, skipping at most two
        ("https://www.dailylantern.com/x", "The council told the paper it would act.", False),
        ("https://www.dailylantern.com/x", "Daily news from the lantern festival", False),
        ("https://www.dailylantern.com/x", "The Lantern Daily", False),
        ("https://www.harbourgazette.com/x", "Harbour Gazetteer of the county", False),
    ],
)
def test_a_line_names_its_site(url: str, line: str, named: bool) -> None:
    site = SiteName.of(url)
    assert site is not None
    assert site.named_in(line) is named


def test_the_pages_sitename_is_a_second_spelling() -> None:
    assert SiteName.of(None) is None
    site = SiteName.of(None, "The Harbour Gazette")
    assert site is not None and site.named_in("Read the Harbour Gazette in our app")
    both = SiteName.of("https://hg-online.example/x", "Harbour Gazette")
    assert both is not None and both.spellings == ("hgonline", "harbourgazette")
