"""The boilerplate engine: blocks anywhere and in any tag style, content kept, budget, metadata."""

from __future__ import annotations

from itertools import pairwise

import pytest

from pipeline.core.config import BoilerplateConfig
from pipeline.core.record import Doc
from stages.boilerplate.engine import clean, find_removals
from stages.boilerplate.rulepack import load_rules
from stages.boilerplate.stage import Boilerplate, BudgetUse

RULES = load_rules(("builtin",))

TITLE = "Council approves new harbour wall after winter storms"
P1 = "The council has approved a £2m plan to rebuild the harbour wall at Kestrel Bay."
P2 = "Work will start in April and is expected to take eight months, officials said."
P3 = "Residents said they were relieved that the plans had finally been agreed."


def _doc(*blocks: str, sep: str = "\n\n") -> str:
    return sep.join(blocks)


def _promo(tag: str, header: str = "DON’T MISS:") -> str:
    heads = [
        "Mortgage holders told to act before deadline",
        "Roadworks to cause months of delays on ring road",
        "Huge queues as new discount store opens",
    ]
    return "\n".join([header, *(f"{h} {tag}".rstrip() for h in heads)])


TAGS = ["[NEWS]", "(VIDEO)", ""]


@pytest.mark.parametrize("tag", TAGS, ids=["brackets", "parens", "untagged"])
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_promo_block_is_removed_as_one_block_anywhere(tag: str, where: str) -> None:
    promo = _promo(tag)
    body = {
        "start": [TITLE, promo, P1, P2, P3],
        "middle": [TITLE, P1, promo, P2, P3],
        "end": [TITLE, P1, P2, P3, promo],
    }[where]
    for sep in ("\n\n", "\n"):
        result = clean(_doc(*body, sep=sep), RULES)
        blocks = [b for b in result.text.split("\n") if b.strip()]
        assert blocks == [TITLE, P1, P2, P3]
        promo_removals = [r for r in result.removed if r.category == "promo_block"]
        assert len(promo_removals) == 1
        assert promo_removals[0].snippet.startswith("DON’T MISS") and "discount store" in (
            promo_removals[0].snippet
        )


@pytest.mark.parametrize(
    "header",
    ["Lesen Sie auch:", "À lire aussi :", "Te puede interesar:", "Leggi anche:", "Lees ook:", "Leia também:"],
)
def test_localised_promo_headers_take_their_headlines(header: str) -> None:
    text = _doc(TITLE, P1, _promo("", header=header), P2)
    result = clean(text, RULES)
    assert result.text.split() == _doc(TITLE, P1, P2).split()


def test_tagged_block_stops_at_the_first_untagged_line() -> None:
    # A short untagged line after a tagged promo list is article text (a sub-heading).
    text = _doc(TITLE, P1, _promo("[NEWS]"), "What happens next", P2, sep="\n")
    result = clean(text, RULES)
    assert "What happens next" in result.text
    assert "discount store" not in result.text


def test_single_line_promos_and_related_links() -> None:
    text = _doc(
        TITLE,
        P1,
        "READ MORE: Warning over new text message scam",
        P2,
        "Related: Five things we learned from the budget",
        P3,
        "Related stories\nPub voted the cosiest in the county\nWarning over new text message scam",
    )
    assert clean(text, RULES).text.split() == _doc(TITLE, P1, P2, P3).split()


def test_headline_list_that_is_content_is_kept() -> None:
    results = [
        "The results in full were:",
        "Ashby Athletic 2 Canal Street 1",
        "Northfield Wanderers 0 Old Boys 0",
        "Railway Tavern 3 St Clement’s 2",
    ]
    events = [
        "Brightwater Park, Saturday, gates open 5.30pm",
        "Seafront Gardens, Saturday, display starts 7pm",
    ]
    text = _doc(TITLE, P1, *results, P2, *events, P3)
    result = clean(text, RULES)
    assert result.removed == []
    assert result.text == text


HARD_NEGATIVES = [
    "Residents who sign up before 30 April will receive a free compost caddy.",
    "More than 4,000 households have signed up for the new garden waste scheme.",
    "“Don’t miss it - this is one of the best displays of the year,” said the society’s chair.",
    "Don't miss the final day of the festival, organisers said.",
    "Source: Office for Regional Statistics, January figures.",
    '"We use cookies as a bit of a joke in the shop - everyone knows we bake too many," said Femi.',
    "An advertisement for an energy drink has been banned after the watchdog ruled against it.",
    "The race, which has been sponsored by the society since 2016, attracted 14,000 runners.",
    "Investors were asked to share their views at an extraordinary meeting next month.",
    "Comments on the plans can be submitted online or at the town hall until 12 May.",
    "Residents can read the full report at any branch or on the council’s website.",
    "Police urged drivers to follow diversion signs rather than satnavs.",
    "Another email, sent by an official identified only as [REDACTED], asked colleagues to wait.",
    'It said the work would be "finished by the end of the month [sic] at the absolute latest."',
    "The Pennick Parish News, a newsletter delivered since 1952, has printed its final edition.",
    "It is not clear when it will reopen.",
    "By Friday the river had burst its banks.",
    "Updated figures will be published on Friday.",
    # from a user's sweep: headlines, sub-headings and captions the rules once took
    "« Nous ne céderons pas » affirme le maire",
    "Das Motto lautet » Jetzt erst recht «",
    "By Rail Or By Road",
    "Recommended: Five portions of fruit and vegetables a day",
    "Photo: Emergency crews cleared the road within hours",
    "Contact Trading Standards at help@tradingstandards.example if you are targeted",
]

#: Title-case headlines that start like a byline ('Por' = by, 'Di' = by, 'Door' = by).
HEADLINES_LIKE_BYLINES = [
    "Por Qué Sube El Precio Del Pan",
    "Por Dentro Da Crise Hídrica",
    "Di Maio Incontra Il Premier",
    "Door De Storm Geen Treinen",
    "« Un moment historique » pour la ville",
]


@pytest.mark.parametrize("headline", HEADLINES_LIKE_BYLINES)
def test_a_headline_that_starts_like_a_byline_is_the_title(headline: str) -> None:
    result = clean(_doc(headline, P1, P2), RULES)
    assert result.removed == [] and result.author is None


def test_a_plain_text_table_below_the_first_lines_is_content() -> None:
    table = ["Team | Played | Won | Lost | Points", "Arsenal | 10 | 7 | 2 | 23", "Chelsea | 10 | 6 | 3 | 21"]
    forecast = ["Fri | Sat | Sun | Mon", "Sunny | Cloudy | Rain | Storms"]
    text = _doc(TITLE, P1, *table, P2, *forecast, P3)
    assert clean(text, RULES).removed == []
    menu = "Brightwater Post | Home | Local | Politics | Sport | Lifestyle | Jobs"
    assert [r.rule for r in clean(_doc(menu, TITLE, P1), RULES).removed] == ["nav.link_row"]


@pytest.mark.parametrize("sentence", HARD_NEGATIVES)
def test_hard_negatives_are_content(sentence: str) -> None:
    text = _doc(TITLE, P1, sentence, P2)
    result = clean(text, RULES)
    assert sentence in result.text
    assert result.removed == []


def test_glued_signup_notice_is_cut_out_of_the_paragraph() -> None:
    notice = (
        "We use your sign-up to provide content in ways you’ve consented to and to improve our "
        "understanding of you. This may include adverts from us and 3rd parties based on our "
        "understanding. You can unsubscribe at any time. More info"
    )
    text = _doc(TITLE, P1 + notice + P2, P3, sep="\n")
    result = clean(text, RULES)
    assert result.text.split("\n") == [TITLE, P1, P2, P3]
    assert [r.category for r in result.removed] == ["signup_notice"]


def test_video_player_text_and_title_go_together() -> None:
    text = _doc(TITLE, "Video player loading", "Brackwell: Drone footage shows flooded high street", P1)
    result = clean(text, RULES)
    assert result.text.split() == _doc(TITLE, P1).split()
    assert {r.category for r in result.removed} == {"video_caption"}


def test_cookie_banner_with_its_buttons() -> None:
    text = _doc(
        "We use cookies to ensure that we give you the best experience on our website. "
        "If you continue to use this site we will assume that you are happy with it.",
        "Ok",
        TITLE,
        P1,
    )
    result = clean(text, RULES)
    assert result.text.split() == _doc(TITLE, P1).split()


@pytest.mark.parametrize(
    ("byline", "author"),
    [
        ("By Jane Doe, Political Correspondent", "Jane Doe"),
        ("By AISHA RAHMAN", "Aisha Rahman"),
        ("BY JEAN-PAUL O'NEILL, Chief Reporter", "Jean-Paul O'Neill"),
        ("Von Anna Keller", "Anna Keller"),
        ("Par Léa Fontaine", "Léa Fontaine"),
    ],
)
def test_bylines_become_author_metadata(byline: str, author: str) -> None:
    result = clean(_doc(TITLE, byline, P1), RULES)
    assert result.author == author
    assert byline not in result.text
    assert [r.category for r in result.removed] == ["byline"]


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("Published: 11:05, Thu, Aug 10, 2023 | Updated: 16:04, Thu, Aug 10, 2023", "2023-08-10T11:05"),
        ("Updated: 16:56, Mon, Dec 20, 2021", "2021-12-20T16:56"),
        ("Aktualisiert: 23.03.2023, 19:08 Uhr", "2023-03-23T19:08"),
        ("Publié le 22/01/2022 à 13h01", "2022-01-22T13:01"),
        ("Actualizado 30/01/2021 - 22:14", "2021-01-30T22:14"),
        ("Bijgewerkt: 11-11-2023, 18:50", "2023-11-11T18:50"),
        ("Atualizado a 25/01/2021 às 10:59", "2021-01-25T10:59"),
    ],
)
def test_timestamps_become_iso_dates(line: str, iso: str) -> None:
    result = clean(_doc(TITLE, line, P1), RULES)
    assert result.date == iso
    assert line not in result.text


def test_dateline_inside_a_sentence_stays() -> None:
    sentence = "Published on 12 March 2023, the report found that rents had risen by a fifth."
    result = clean(_doc(TITLE, sentence, P1), RULES)
    assert sentence in result.text


# --- the stage: budget and metadata ----------------------------------------------------------------


def _stage_doc(text: str, url: str | None = None) -> Doc:
    return Doc(id="d", source="s", raw=text, text=text, url=url)


LONG_NOTICE = (
    "We use your sign-up to provide content in ways you’ve consented to and to improve our "
    "understanding of you. This may include adverts from us and 3rd parties based on our "
    "understanding. You can unsubscribe at any time. More info"
)


def test_short_article_with_a_long_notice_is_cleaned_not_flagged() -> None:
    doc = _stage_doc(_doc("Pier reopens", LONG_NOTICE, "The pier reopened on Monday.", sep="\n"))
    Boilerplate().process_docs([doc])
    assert doc.ok and doc.flags == []
    assert doc.text.split("\n") == ["Pier reopens", "The pier reopened on Monday."]


def _gutted() -> str:
    # A short article whose lines happen to look like a headline list under a promo header.
    return _doc(
        "Pier reopens",
        "MORE:",
        "Pier reopens to visitors after a winter of repairs to its Victorian legs",
        "Café on the pier opens again with a new menu and longer hours in summer",
        "Owners thank the volunteers who raised the money for the ironwork",
        "Ferry to Skellow will call at the pier head again from the first of May",
        "Short note.",
        sep="\n",
    )


def test_small_promo_list_on_a_short_article_is_cleaned_not_flagged() -> None:
    text = _doc("Pier reopens", "The pier reopened on Monday.", _promo(""), sep="\n")
    doc = _stage_doc(text)
    Boilerplate(BoilerplateConfig(max_removed_share=0.4)).process_docs([doc])
    assert doc.flags == []
    assert doc.text.split() == ["Pier", "reopens", "The", "pier", "reopened", "on", "Monday."]


def test_default_budget_cleans_a_short_text_that_is_mostly_boilerplate() -> None:
    """Short news texts are often 60-80 % boilerplate (one in eight of newsboiler's dev set is
    over 60 %): the default budget (0.8) cleans such a text; the former 0.6 kept it whole."""
    article = "The pier reopened on Monday after a winter of repairs to its legs, and the first visitors queued from dawn."
    lists = (
        "Related stories",
        "Doctors reveal the simple habit that helps you sleep",
        "Weather maps turn red as heat builds",
    )
    text = _doc("Pier reopens", article, _promo(""), *lists, sep="\n")
    doc = _stage_doc(text)
    Boilerplate().process_docs([doc])
    assert doc.flags == [] and doc.text.split("\n") == ["Pier reopens", article, ""]
    tight = _stage_doc(text)
    Boilerplate(BoilerplateConfig(max_removed_share=0.6)).process_docs([tight])
    assert tight.flags == ["removal_budget_exceeded"] and tight.text == text
    assert tight.detail is not None and "remove 68% of the text" in tight.detail
    gutted = _stage_doc(_gutted())  # 92 %: what the budget is for, still caught by default
    Boilerplate().process_docs([gutted])
    assert gutted.flags == ["removal_budget_exceeded"] and gutted.removed == []


def test_budget_keeps_and_flags_a_document_that_would_be_gutted() -> None:
    text = _gutted()
    doc = _stage_doc(text)
    stage = Boilerplate(BoilerplateConfig(max_removed_share=0.4))
    stage.process_docs([doc])
    assert doc.ok and doc.text == text and doc.removed == []
    assert doc.flags == ["removal_budget_exceeded"]
    assert doc.detail is not None and "max_removed_share=40%" in doc.detail
    assert BudgetUse(risky=150, size=160).exceeds(0.4) is False  # too little to be a gutting
    assert BudgetUse(risky=250, size=300).exceeds(0.4) is True


def test_budget_can_send_the_document_to_rejects() -> None:
    doc = _stage_doc(_gutted())
    stage = Boilerplate(BoilerplateConfig(max_removed_share=0.4, on_budget_exceeded="reject"))
    stage.process_docs([doc])
    assert doc.status.value == "rejected" and doc.reason == "removal_budget"
    assert stage.stats.rejected["removal_budget"] == 1


def test_stage_moves_metadata_and_keeps_an_existing_author() -> None:
    text = _doc(TITLE, "By Jane Doe", "Updated: 16:56, Mon, Dec 20, 2021", P1, sep="\n")
    doc = _stage_doc(text)
    Boilerplate().process_docs([doc])
    assert (doc.author, doc.date) == ("Jane Doe", "2021-12-20T16:56")
    assert doc.text.split("\n") == [TITLE, P1]
    doc = _stage_doc(text)
    doc.author = "From the HTML"
    Boilerplate().process_docs([doc])
    assert doc.author == "From the HTML"
    off = Boilerplate(BoilerplateConfig(extract_metadata=False))
    doc = _stage_doc(text)
    off.process_docs([doc])
    assert doc.author is None and len(doc.removed) == 2


def test_removals_are_in_text_order_and_disjoint() -> None:
    text = _doc(TITLE, "By Jane Doe", P1, "Advertisement", _promo("[NEWS]"), P2, "Share this article")
    found = [r for r, _, _ in find_removals(text, RULES)]
    assert [r.category for r in found] == ["byline", "ad_marker", "promo_block", "share_prompt"]
    assert all(a.end <= b.start for a, b in pairwise(found))


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: an untagged headline list has no end marker, so a sub-heading without "
    "a full stop right after it is taken as one more headline",
)
def test_untagged_block_stops_before_a_subheading() -> None:
    text = _doc(TITLE, P1, "Lesen Sie auch:", "Polizei sucht Zeugen nach Unfall", "Reaktionen im Rathaus", P2)
    result = clean(text, RULES)
    assert "Reaktionen im Rathaus" in result.text


@pytest.mark.parametrize("line", ["Updated 3 hours ago", "Updated at 1:23 p.m.", "Updated: 12 p.m."])
def test_an_update_line_without_a_date_is_removed_and_sets_no_date(line: str) -> None:
    result = clean(_doc(TITLE, line, P1), RULES)
    assert line not in result.text and [r.category for r in result.removed] == ["timestamp_update"]
    assert result.date is None  # the date column is ISO 8601 or null, never '3 hours ago'
