"""Block headers and items left next to a removal (stages.boilerplate.neighbours), alone and in the stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.core.config import BoilerplateConfig
from pipeline.core.errors import RuleError
from pipeline.core.record import Doc, Removal
from stages.boilerplate.engine import Found
from stages.boilerplate.neighbours import (
    CAPTION_RULE,
    HEADER_RULE,
    HEADLINE_RULE,
    ITEM_RULE,
    REST_RULE,
    TAIL_RULE,
    author_lines,
    byline_name,
    captions,
    headlines,
    is_header,
    is_item,
    neighbours,
    rests,
    tails,
    teaser,
)
from stages.boilerplate.stage import Boilerplate
from stages.boilerplate.units import text_units


def _removed(text: str, snippet: str, category: str) -> Found:
    start = text.index(snippet)
    return (Removal("r", category, start, start + len(snippet), snippet), HEADER_RULE, None)


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("Worth a read:", True),
        ("En ce moment »", True),
        ("Destaques >>", True),
        ("RECOMMENDED", True),
        ("More on this...", True),
        ("He said:", True),  # a label's shape: only what is removed below it decides
        ("The council said on Tuesday that it would review the plan:", False),  # too long
        ("Read on.", False),
        ("Pier reopens", False),  # a title: no label mark, not in capitals
    ],
)
def test_header_shape(line: str, header: bool) -> None:
    assert is_header(line) is header


@pytest.mark.parametrize(
    ("line", "item"),
    [
        ("› Bakery in the centre closes after 80 years", True),
        ("Council tax bills: full list of changes", True),
        ('"It is the greatest compliment we could receive."', False),  # a sentence in quotes
        ("\u00bbDas ist das sch\u00f6nste Kompliment.\u00ab", False),  # in German quotes
        ("\u201eDas ist gut, sagte sie.\u201c", False),
        ("The pier reopened on Monday.", False),
        ("Home", False),
    ],
)
def test_item_shape(line: str, item: bool) -> None:
    assert is_item(line) is item


def test_header_above_a_removed_block_goes_with_its_category() -> None:
    text = "Body text of the article.\n\nWorth a read:\nOne headline\nAnother headline\n\nMore body."
    found = [_removed(text, "One headline\nAnother headline", "promo_block")]
    (removal, rule, match), *rest = neighbours(text, found)
    assert not rest and match is None and rule is HEADER_RULE
    assert (removal.rule, removal.category, removal.snippet) == (
        "structure.block_header",
        "promo_block",
        "Worth a read:",
    )
    assert text[removal.start : removal.end] == removal.snippet


def test_item_between_two_removals_of_one_category() -> None:
    text = "Body.\n\n› First headline\n› Middle headline left behind\n› Last headline\n\nBody again."
    found = [
        _removed(text, "› First headline", "related_links"),
        _removed(text, "› Last headline", "related_links"),
    ]
    [(removal, rule, _)] = neighbours(text, found)
    assert rule is ITEM_RULE and removal.snippet == "› Middle headline left behind"
    assert removal.category == "related_links"


def test_an_item_is_never_a_unit_the_gates_keep() -> None:
    """A text record's title between two removed menus is no item left behind."""
    text = "Mein Konto\n\nLandwirte klagen über nasses Frühjahr\n\nStand: heute\n\nBody."
    found = [_removed(text, "Mein Konto", "navigation"), _removed(text, "Stand: heute", "navigation")]
    [(removal, rule, _)] = neighbours(text, found)
    assert rule is ITEM_RULE and removal.snippet == "Landwirte klagen über nasses Frühjahr"
    title = [u for u in text_units(text, html=False) if u.text.startswith("Landwirte")]
    assert neighbours(text, found, kept=title) == []


@pytest.mark.parametrize(
    "case",
    [
        "different categories",
        "a sentence between",
        "two lines between",
        "nothing removed below",
        "inline removal",
    ],
)
def test_what_is_left_alone(case: str) -> None:
    text = "Body.\n\nTop picks:\n› First headline\n› A middle line\n› Last headline\n\nBody again."
    first, last = "› First headline", "› Last headline"
    if case == "different categories":
        found = [_removed(text, first, "related_links"), _removed(text, last, "footer")]
        assert [f[0].rule for f in neighbours(text, found)] == ["structure.block_header"]
        return
    if case == "a sentence between":
        text = text.replace("› A middle line", "The council confirmed the plan on Tuesday.")
        found = [_removed(text, first, "related_links"), _removed(text, last, "related_links")]
        assert [f[0].snippet for f in neighbours(text, found)] == ["Top picks:"]
        return
    if case == "two lines between":
        text = text.replace("› A middle line", "› A middle line\n› And another")
        found = [_removed(text, first, "related_links"), _removed(text, last, "related_links")]
        assert [f[0].snippet for f in neighbours(text, found)] == ["Top picks:"]
        return
    if case == "nothing removed below":
        assert neighbours(text, []) == []
        return
    found = [_removed(text, "again.", "source_link")]  # starts inside "Body again."
    assert neighbours(text, found) == []


def test_stage_takes_the_header_of_a_block_a_rule_removed() -> None:
    """The built-in rules know "DON'T MISS" but not this site's label over it."""
    text = (
        "Pier reopens\nThe pier reopened on Monday after a winter of repairs.\nToday's picks »\n"
        "DON'T MISS:\nMortgage holders told to act before deadline [NEWS]\n"
        "Pub voted the cosiest in the county (VIDEO)\nThe café will open at weekends."
    )
    doc = Doc(id="d", source="s", raw=text, text=text)
    Boilerplate(BoilerplateConfig(model="none")).process_docs([doc])
    assert "Today's picks" not in doc.text and "DON'T MISS" not in doc.text
    assert "The pier reopened on Monday" in doc.text and "The café will open at weekends." in doc.text
    assert [r.rule for r in doc.removed][:1] == ["structure.block_header"]
    assert doc.removed[0].category == "promo_block"
    off = Boilerplate(BoilerplateConfig(model="none", disabled_rules=("structure.block_header",)))
    kept = Doc(id="d", source="s", raw=text, text=text)
    off.process_docs([kept])
    assert "Today's picks »" in kept.text and "DON'T MISS" not in kept.text


def test_disabled_structure_ids_are_checked_like_pack_ids() -> None:
    with pytest.raises(RuleError, match=r"did you mean \['structure.block_item'\]"):
        Boilerplate(BoilerplateConfig(disabled_rules=("structure.block_iten",)))
    stage = Boilerplate(BoilerplateConfig(disabled_rules=("structure.block_item",)))
    assert stage.disabled_structure == {"structure.block_item"}


def _tails(text: str, *removed: tuple[str, str], html: bool = False) -> list[str]:
    found = sorted(
        (_removed(text, snippet, category) for snippet, category in removed), key=lambda f: f[0].start
    )
    out = tails(text, found, html=html)
    assert all(rule is TAIL_RULE and text[r.start : r.end] == r.snippet for r, rule, _ in out)
    return [r.snippet for r, _, _ in out]


BODY = "The council approved the harbour budget on Monday after a long debate about the harbour walls."


def test_tail_of_a_headline_list_goes_with_it() -> None:
    text = f"{BODY}\n\nRelated coverage\nBakery marks 100 years in the high street\nOwl rescued from chimney\n\n{BODY}"
    assert _tails(text, ("Related coverage", "related_links")) == [
        "Bakery marks 100 years in the high street",
        "Owl rescued from chimney",
    ]


def test_tail_of_a_video_block_is_its_title() -> None:
    text = f"{BODY}\n\nTap to unmute\nDrone footage shows flooded streets\n\nShare this article\n\n{BODY}"
    got = _tails(text, ("Tap to unmute", "video_caption"), ("Share this article", "share_prompt"))
    assert got == ["Drone footage shows flooded streets"]


@pytest.mark.parametrize(
    ("below", "taken"),
    [
        # a sub-heading announces what follows: it shares a content word with the document
        ("What happens to the harbour walls", []),
        # one headline-shaped line between a promo and the body: more often the body's own
        ("Bakery marks 100 years in the high street", []),
        # a sentence is never an item
        ("The bakery opened in 1924.", []),
    ],
)
def test_tail_stops_where_the_article_goes_on(below: str, taken: list[str]) -> None:
    text = f"{BODY}\n\nREAD MORE: Owl rescued from chimney\n{below}\n\n{BODY}"
    assert _tails(text, ("READ MORE: Owl rescued from chimney", "promo_block")) == taken


def test_the_rest_of_a_marked_list_goes_whatever_its_removal_was_named() -> None:
    """Items that start with the mark the removal's last line starts with are the rest of its
    list: one of them, on the article's topic, right above the article, and under a removal the
    category head named a video's, goes too; unmarked lines below it stay."""
    lst = "More news\n» Owl rescued from chimney\n» Bakery marks 100 years"
    rest = "» Harbour walls to be rebuilt"
    text = f"{BODY}\n\n{lst}\n\n{rest}\n\n{BODY}"
    assert _tails(text, (lst, "video_caption")) == [rest]
    assert _tails(text, (lst, "promo_block")) == [rest]
    assert _tails(text.replace(rest, rest.lstrip("» ")), (lst, "promo_block")) == []  # unmarked: on topic
    assert _tails(text, (lst, "byline")) == []  # no block
    # a one-line removal's mark is its own line's, not the document's first character's
    one = f"- Weather desk report\n\n{BODY}\n\nShare this article\n\n- Harbour walls rebuilt\n\n{BODY}"
    assert _tails(one, ("Share this article", "share_prompt")) == []


def test_tail_before_the_article_goes_on_keeps_only_off_topic_last_units() -> None:
    text = f"{BODY}\n\nMore stories\nBakery marks 100 years\nOwl rescued from chimney\nHarbour walls: the plan\n\n{BODY}"
    # the last unit shares "harbour" with the document: a sub-heading; two headlines are left
    assert _tails(text, ("More stories", "related_links")) == [
        "Bakery marks 100 years",
        "Owl rescued from chimney",
    ]


def test_a_headline_another_removed_list_repeats_is_still_off_topic() -> None:
    """Its words in the "Most read" list below do not make it the article's."""
    most_read = "Most read\nSailing club wins lottery funding\nNew zebra crossing for school road"
    text = (
        f"{BODY}\n\nRead next:\nBakery marks 100 years\nSailing club wins lottery funding\n\n{BODY}\n\n"
        f"{most_read}"
    )
    taken = ["Bakery marks 100 years", "Sailing club wins lottery funding"]
    assert _tails(text, ("Read next:", "promo_block"), (most_read, "related_links")) == taken
    # kept below the article, the same headline is the article's word for it (and one headline
    # left is no list)
    kept = text.replace(f"\n\n{most_read}", "\n\nSailing club wins lottery funding")
    assert _tails(kept, ("Read next:", "promo_block")) == []


def test_no_tail_below_other_categories_or_outside_units() -> None:
    text = f"{BODY}\n\nFollow us on X\nBakery marks 100 years in the high street\n\n{BODY}"
    assert _tails(text, ("Follow us on X", "share_prompt")) == []
    assert tails(text, [], html=False) == []


#: A user's rule for a list header the built-in rules do not know.
ELSEWHERE = (
    "[pack]\nname = 'mine'\n[[rules]]\nid = 'mine.elsewhere'\ncategory = 'related_links'\n"
    "pattern = 'Elsewhere on the site'\n"
)


def _stage(tmp_path: Path, **kw: object) -> Boilerplate:
    pack = tmp_path / "pack.toml"
    pack.write_text(ELSEWHERE, encoding="utf-8")
    return Boilerplate(BoilerplateConfig(model="none", rule_files=(str(pack),), **kw))  # type: ignore[arg-type]


LIST = "Elsewhere on the site\nBakery marks 100 years in the high street\nOwl rescued from chimney"


def test_stage_takes_the_tail_and_can_turn_it_off(tmp_path: Path) -> None:
    text = f"{BODY}\n\n{LIST}\n\n{BODY[:-1]} again."
    doc = Doc(id="d", source="s", raw=text, text=text)
    _stage(tmp_path).process_docs([doc])
    assert [(r.rule, r.category, r.snippet) for r in doc.removed] == [
        ("mine.elsewhere", "related_links", "Elsewhere on the site"),
        ("structure.block_tail", "related_links", "Bakery marks 100 years in the high street"),
        ("structure.block_tail", "related_links", "Owl rescued from chimney"),
    ]
    assert doc.text.count("harbour budget") == 2
    kept = Doc(id="d", source="s", raw=text, text=text)
    _stage(tmp_path, disabled_rules=("structure.block_tail",)).process_docs([kept])
    assert "Owl rescued from chimney" in kept.text and "Elsewhere on the site" not in kept.text


def test_structure_never_costs_a_document_its_other_removals(tmp_path: Path) -> None:
    """Taking the tail would put this short text over the removal budget: the stage then removes
    what the rules found without the structural removals, instead of nothing."""
    text = f"{LIST}\n\nShort piece."
    doc = Doc(id="d", source="s", raw=text, text=text)
    _stage(tmp_path, budget_min_chars=0).process_docs([doc])
    assert "Elsewhere on the site" not in doc.text and "Owl rescued from chimney" in doc.text
    assert [r.rule for r in doc.removed] == ["mine.elsewhere"] and "removal_budget_exceeded" not in doc.flags


def test_a_tail_never_takes_a_unit_the_gates_keep() -> None:
    text = f"Tap to unmute\nFootbridge opens over the river\n\n{BODY}"
    found = [_removed(text, "Tap to unmute", "video_caption")]
    units = text_units(text, html=False)
    assert [r.snippet for r, _, _ in tails(text, found, html=False, units=units)] == [units[1].text]
    kept = np.array([u.text == "Footbridge opens over the river" for u in units])  # the title
    assert tails(text, found, html=False, units=units, kept=kept) == []


# --- other stories' headlines, by shape alone (structure.headline) -----------------------------------

STORY = (
    "Harbour walls to be rebuilt after winter storms\n\n"
    "The council approved the harbour budget on Monday after a long debate about the harbour walls.\n\n"
    "Engineers said the walls of the harbour had cracked in three places during the winter storms."
)


def _headlines(text: str) -> list[str]:
    units = text_units(text, html=False)
    found = headlines(text, [], units, np.ones(len(units), dtype=bool))
    assert all(rule is HEADLINE_RULE and r.category == "promo_block" for r, rule, _ in found)
    return [r.snippet for r, _, _ in found]


@pytest.mark.parametrize(
    ("line", "headline"),
    [
        (
            "Catch up: Rare butterfly returns to county after 40 years",
            "Rare butterfly returns to county after 40 years",
        ),
        (
            "Tip van de redactie → Gemeenteraad stemt in met recordbegroting",
            "Gemeenteraad stemt in met recordbegroting",
        ),
        (
            "Latest » Lifeboat crew rescue family cut off by tide",
            "Lifeboat crew rescue family cut off by tide",
        ),
        ("Le ultime - Furti in serie a Fontecupa", "Furti in serie a Fontecupa"),
        ("Radars : où seront les contrôles", None),  # what follows the mark is too short for a headline
        ("Update: the council has changed its plan.", None),  # a sentence, not a headline
        ("Our correspondent in the city, who has covered the harbour for years: Harbour walls crack", None),
        ("Harbour walls crack again", None),  # no label
    ],
)
def test_teaser_shape(line: str, headline: str | None) -> None:
    assert teaser(line) == headline


def test_a_label_over_other_stories_headlines_goes() -> None:
    promo = "Tip van de redactie »\nGemeenteraad stemt in met recordbegroting\nHet weer: zo wordt het weekend"
    text = f"{STORY}\n\n{promo}\n\nThe work starts in spring."
    assert _headlines(text) == promo.splitlines()


def test_the_headlines_under_a_label_another_rule_removed_go() -> None:
    """A site's learned line or a pack rule took the label: its headlines are still another
    story's, and go; the label's own removal is not made twice."""
    label = "Le choix de la rédaction:"
    items = ["Gemeenteraad stemt in met recordbegroting", "Het weer: zo wordt het weekend"]
    text = f"{STORY}\n\n{label}\n" + "\n".join(items) + "\n\nThe work starts in spring."
    units = text_units(text, html=False)
    taken = [_removed(text, label, "site_repeated")]
    free = np.array([u.text != label for u in units])
    found = headlines(text, taken, units, free)
    assert [r.snippet for r, _, _ in found] == items
    # the article's own points under a removed label stay (they repeat its words)
    own = "Harbour walls cracked in three places\nCouncil approves harbour budget"
    text = f"{STORY}\n\n{label}\n{own}\n\nThe work starts in spring."
    units = text_units(text, html=False)
    free = np.array([u.text != label for u in units])
    assert headlines(text, [_removed(text, label, "site_repeated")], units, free) == []


def test_a_label_over_the_articles_own_points_stays() -> None:
    points = "What we know so far:\nHarbour walls cracked in three places\nCouncil approves harbour budget"
    assert _headlines(f"{STORY}\n\n{points}\n\nThe work starts in spring.") == []
    teasers = "Catch up: Rare butterfly returns to the county"
    own = "Background: Harbour walls cracked by winter storms"  # a sub-heading that repeats the story
    assert _headlines(f"{STORY}\n\n{teasers}\n\n{BODY}\n\n{own}\n\nThe work starts in spring.") == [teasers]
    # numbers are the article's: scores, a table's rows (newsboiler's nbd-0033)
    results = "The results in full were:\nAshby Athletic 2 Canal Street 1\nNorthfield Wanderers 0 Old Boys 0"
    assert _headlines(f"{STORY}\n\n{results}\n\nThe work starts in spring.") == []
    assert _headlines(f"{STORY}\n\nLatest: Ashby Athletic 2 Canal Street 1") == []
    # "term: what it means" lines in a row are the article's list
    terms = "Liens on assets: Creditors could seize property\n\nCourt orders: Judges may freeze accounts"
    assert _headlines(f"{STORY}\n\n{terms}\n\nThe work starts in spring.") == []
    # and items that are not headlines' shape (three words or fewer) are no headline list
    steps = "How it works:\nTakes input data\nEvaluates each condition\nSplits the workflow"
    assert _headlines(f"{STORY}\n\n{steps}\n\nThe work starts in spring.") == []


# --- the caption above a removed credit (structure.caption) -------------------------------------------


def _captions(text: str, credit: str, kept: str | None = None) -> list[str]:
    units = text_units(text, html=False)
    free = np.array([u.text != kept for u in units])
    found = captions(text, [_removed(text, credit, "image_credit")], units, free)
    assert all(rule is CAPTION_RULE and r.category == "image_credit" for r, rule, _ in found)
    return [r.snippet for r, _, _ in found]


def test_the_caption_right_above_a_credit_goes_with_it() -> None:
    text = f"{STORY}\n\nThe couple on their wedding day\n(Pic: Hannah Mbeki)\n\n{BODY}"
    assert _captions(text, "(Pic: Hannah Mbeki)") == ["The couple on their wedding day"]


@pytest.mark.parametrize(
    "above",
    [
        "The council met on Monday and approved the plan.",  # a sentence: the article's
        "In pictures:",  # a label: what follows may be more than the credit
    ],
)
def test_a_sentence_or_a_label_above_a_credit_stays(above: str) -> None:
    text = f"{STORY}\n\n{above}\n(Pic: Hannah Mbeki)\n\n{BODY}"
    assert _captions(text, "(Pic: Hannah Mbeki)") == []


def test_a_caption_is_right_above_its_credit_and_no_title() -> None:
    credit = "(Pic: Hannah Mbeki)"
    # a blank line between: the line above is not the picture's (a score line, a sub-heading)
    assert _captions(f"{STORY}\n\nAshby Athletic 2 Canal Street 1\n\n{credit}\n\n{BODY}", credit) == []
    # the title the gates keep stays, even right above its picture's credit
    title = "Harbour walls to be rebuilt after winter storms"
    text = f"{title}\n{credit}\n\n{BODY}"
    assert _captions(text, credit, kept=title) == []
    assert _captions(text, credit) == [title]


# --- lines about the byline's author (structure.author) -----------------------------------------------


def _stage_on(text: str, **kw: object) -> Doc:
    doc = Doc(id="d", source="s", raw=text, text=text)
    Boilerplate(BoilerplateConfig(model="none", **kw)).process_docs([doc])  # type: ignore[arg-type]
    return doc


def test_lines_about_the_bylines_author_go() -> None:
    text = (
        f"By Grace Greaves\n\n{STORY}\n\n{BODY}\n\n"
        "Grace Greaves is a senior writer who focuses on crime and the courts.\n\n"
        "VIEW ALL ARTICLES BY GRACE GREAVES"
    )
    doc = _stage_on(text)
    assert doc.author == "Grace Greaves"
    assert [r.rule for r in doc.removed if r.rule == "structure.author"] == ["structure.author"] * 2
    assert "senior writer" not in doc.text and "VIEW ALL" not in doc.text and "harbour walls" in doc.text
    kept = _stage_on(text, disabled_rules=("structure.author",))
    assert "senior writer" in kept.text and "By Grace Greaves" not in kept.text


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Von Katrin Aschenbrenner, Redakteurin", "Katrin Aschenbrenner"),
        ("Autor: Gerlinde Haas · Lokalredaktion", "Gerlinde Haas"),
        ("Posted by Declan Thornbury", "Declan Thornbury"),
        ("BY AISHA RAHMAN", "Aisha Rahman"),
        ("Von Łukasz Nowak", "Łukasz Nowak"),
        ("By Maria de la Cruz, Madrid", "Maria de la Cruz"),
        ("By Jane Smith. Updated March 3", "Jane Smith"),
        ("Lucía Mendaza | Redactora de Local", "Lucía Mendaza"),  # a name before a role
        ("Maria de la Cruz, Madrid", "Maria de la Cruz"),  # "Maria de" is no label
        # a longer label: up to four words before the colon or the preposition
        ("Propos recueillis par Manon Marchand", "Manon Marchand"),
        ("Texte et photos : Élodie Perrin", "Élodie Perrin"),
        ("A cura di Sara Moretti", "Sara Moretti"),
        ("Photos and words by Rhys Pemberton", "Rhys Pemberton"),
        ("Five of the best walks by Rhys Pemberton", ""),  # five words before "by": a headline
        ("The Harbour Council said on Monday", ""),  # no label, preposition or role: no byline
        ("Jane Smith.", ""),
        ("Posted by The Council", ""),  # an article starts no one's name
        ("Source: The Guardian", ""),
        ("By Jane", ""),  # a first name alone
        ("the council said on Monday", ""),
    ],
)
def test_the_name_of_a_byline_line(line: str, name: str) -> None:
    assert byline_name(line) == name


def test_a_byline_the_model_removed_names_the_author_too() -> None:
    """No byline rule knows "Autor: ... · ...": the model takes the line (category byline), and the
    name it gives finds the author's bio further down."""
    byline = "Autor: Gerlinde Haas · Lokalredaktion"
    bio = "Gerlinde Haas ist Redakteurin in der Lokalredaktion Ulmenau und schreibt vor allem über Verkehr."
    text = f"{STORY}\n\n{byline}\n\n{BODY}\n\n{bio}"
    units = text_units(text, html=False)
    start = text.index(byline)
    model = (Removal("model:t", "byline", start, start + len(byline), byline, 0.97), HEADER_RULE, None)
    free = np.array([u.text not in (byline,) for u in units])
    found = author_lines(text, [model], units, free)
    assert [r.snippet for r, _, _ in found] == [bio]
    # a removal of the model's in another category names nobody
    other = (model[0]._replace(category="navigation"), HEADER_RULE, None)
    assert author_lines(text, [other], units, free) == []
    # the model's name starts a line about the author; a short line that only mentions it stays
    # (the model may have misread the line's category: its name is less sure than a rule's)
    mention = "More from Gerlinde Haas and the team"
    text = f"{STORY}\n\n{byline}\n\n{BODY}\n\n{mention}"
    units = text_units(text, html=False)
    free = np.array([u.text != byline for u in units])
    assert (
        author_lines(
            text,
            [
                (
                    model[0]._replace(start=text.index(byline), end=text.index(byline) + len(byline)),
                    HEADER_RULE,
                    None,
                )
            ],
            units,
            free,
        )
        == []
    )


def test_a_sentence_naming_the_author_inside_the_story_stays() -> None:
    # the author in the middle of a sentence, or a long sentence naming them: the story's
    quote = "The mayor told Grace Greaves that the harbour walls would be rebuilt by the end of the year."
    doc = _stage_on(f"By Grace Greaves\n\n{STORY}\n\n{quote}\n\n{BODY}")
    assert quote in doc.text and [r.rule for r in doc.removed if r.rule.startswith("structure")] == []
    # a first name alone is no author name to look for
    doc = _stage_on(f"By Grace\n\n{STORY}\n\nGrace said the walls would hold.")
    assert "Grace said" in doc.text


@pytest.mark.parametrize(
    ("rule", "middle", "removed", "stays"),
    [
        (
            "structure.headline",
            f"Catch up: Rare butterfly returns to the county\n\n{BODY}\n\nElsewhere on the site",
            [
                ("structure.headline", "Catch up: Rare butterfly returns to the county"),
                ("mine.elsewhere", "Elsewhere on the site"),
            ],
            "Rare butterfly",
        ),
        (
            "structure.caption",
            "The couple on their wedding day\n(Pic: Hannah Mbeki)",
            [
                ("structure.caption", "The couple on their wedding day"),
                ("image.caption_credit", "(Pic: Hannah Mbeki)"),
            ],
            "wedding day",
        ),
        (
            "structure.block_rest",
            "Site menu\nElsewhere on the site",
            [("structure.block_rest", "Site menu"), ("mine.elsewhere", "Elsewhere on the site")],
            "Site menu",
        ),
    ],
)
def test_the_stage_takes_the_structure_and_can_turn_it_off(
    tmp_path: Path, rule: str, middle: str, removed: list[tuple[str, str]], stays: str
) -> None:
    text = f"{STORY}\n\n{middle}\n\n{BODY}"
    doc = Doc(id="d", source="s", raw=text, text=text)
    _stage(tmp_path).process_docs([doc])
    assert [(r.rule, r.snippet) for r in doc.removed] == removed
    kept = Doc(id="d", source="s", raw=text, text=text)
    # a caption is also the rest of its credit's block (structure.block_rest): both off
    off = (rule, "structure.block_rest")
    _stage(tmp_path, disabled_rules=off).process_docs([kept])
    assert stays in kept.text
    assert [r.rule for r in kept.removed] == [r for r, _ in removed if r not in off]


def test_structural_removals_keep_the_ledger_exact_on_units_of_several_lines() -> None:
    text = (
        f"By Grace Greaves\n\n{STORY}\n\nThe couple on their\nwedding day in Eastmoor\n(Pic: John Smith)\n\n"
        f"{BODY}\n\nGrace Greaves is a senior writer\ncovering local politics and the harbour\n"
    )
    doc = _stage_on(text)
    structural = [r for r in doc.removed if r.rule in ("structure.caption", "structure.author")]
    assert [r.rule for r in structural] == ["structure.caption", "structure.author"]
    assert all(text[r.start : r.end] == r.snippet for r in doc.removed)
    assert "\n" in structural[0].snippet and "\n" in structural[1].snippet


def test_without_the_models_gates_a_text_records_first_unit_stays() -> None:
    """With ``model = "none"`` no gate finds a text record's title: its first unit is never taken
    by shape (a "Label: headline" title is no teaser, a title above its picture's credit no
    caption)."""
    title = "Eastmoor: Seafront makeover wins backing despite cost fears"
    doc = _stage_on(f"{title}\nBy Tom Reeve\n\n{BODY}\n\n{BODY}")
    assert doc.text.startswith(title) and doc.author == "Tom Reeve"
    title = "Seafront makeover wins backing despite cost fears"
    doc = _stage_on(f"{title}\n(Pic: John Smith)\n\n{BODY}")
    assert doc.text.startswith(title) and "John Smith" not in doc.text


def test_the_author_is_named_as_whole_words_and_the_pages_author_only_in_short_lines() -> None:
    doc = _stage_on(f"By Ann Lee\n\n{STORY}\n\nJoann Leeds wins the harbour regatta\n\n{BODY}")
    assert "Joann Leeds wins" in doc.text  # "ann lee" inside "joann leeds" is no mention
    # the page's author metadata may be an organisation: its sentences are the story's
    claim = "BBC News has seen letters showing the council was warned about the wall's condition in 2019."
    text = f"Harbour walls to be rebuilt\n\n{BODY}\n\n{claim}\n\nMore from BBC News\n\n(Pic: John Smith)"
    page = Doc(id="d", source="s", raw=text, text=text, format="html", author="BBC News")
    Boilerplate(BoilerplateConfig(model="none")).process_docs([page])
    assert claim in page.text and "More from BBC News" not in page.text


MENU = "My account\nNewsletter\nE-paper"


def _free(text: str) -> np.ndarray:
    return np.ones(len(text_units(text, html=False)), dtype=bool)


@pytest.mark.parametrize(
    ("block", "removed", "left"),
    [
        (MENU, "Newsletter\nE-paper", ["My account"]),  # a menu's first entry
        (  # a list's header and first headline, the rest taken
            "Editor's choice\nBakery marks 100 years\nOwl rescued from chimney\nPier reopens to the public",
            "Owl rescued from chimney\nPier reopens to the public",
            ["Editor's choice", "Bakery marks 100 years"],
        ),
        (MENU, "E-paper", []),  # less than half of the block went
        (  # what is left is a sentence: a notice's text, not its button
            "We use cookies to improve the site and to show you relevant ads.\nAccept",
            "Accept",
            [],
        ),
    ],
)
def test_the_rest_of_a_block_removals_took_most_of(block: str, removed: str, left: list[str]) -> None:
    text = f"{STORY}\n\n{block}\n\n{BODY}"
    found = [_removed(text, removed, "navigation")]
    out = rests(text, found, text_units(text, html=False), _free(text))
    assert [r.snippet for r, _, _ in out] == left
    assert all(rule is REST_RULE and r.category == "navigation" for r, rule, _ in out)
    assert all(text[r.start : r.end] == r.snippet for r, _, _ in out)


def test_the_rest_of_a_block_only_in_text_set_apart_by_blank_lines() -> None:
    text = f"{STORY}\n\n{MENU}\n\n{BODY}"
    found = [_removed(text, "Newsletter\nE-paper", "navigation")]
    units = text_units(text, html=False)
    # an HTML extraction sets every paragraph on a line of its own: no blocks to read
    assert rests(text, found, units, _free(text), html=True) == []
    # a unit the gates keep (a text record's title) is not taken
    kept = _free(text)
    kept[next(i for i, u in enumerate(units) if u.text == "My account")] = False
    assert rests(text, found, units, kept) == []
    flat = text.replace("\n\n", "\n")
    assert (
        rests(
            flat,
            [_removed(flat, "Newsletter\nE-paper", "navigation")],
            text_units(flat, html=False),
            _free(flat),
        )
        == []
    )


def test_an_inline_removal_does_not_make_its_paragraph_a_removed_unit() -> None:
    """A notice cut out of a paragraph leaves the paragraph standing: the sub-heading above it in
    the same block is the story's, not what is left of a removed block."""
    para = (
        "Engineers said the walls of the harbour had cracked in three places during the winter storms. "
        "By signing up you agree to our privacy policy."
    )
    text = f"{STORY}\n\nRepairs begin in spring\n{para}\n\n{BODY}"
    found = [_removed(text, "By signing up you agree to our privacy policy.", "signup_notice")]
    assert rests(text, found, text_units(text, html=False), _free(text)) == []


def test_the_rest_takes_the_category_of_its_own_blocks_removal() -> None:
    # the removal starts inside its unit (after a list marker): the one before it is another block's
    text = f"{STORY}\n\nAdvertisement\n\nHarbour Gazette\n» Sign up for our morning newsletter\n\n{BODY}"
    found = [
        _removed(text, "Advertisement", "ad_marker"),
        _removed(text, "Sign up for our morning newsletter", "newsletter_cta"),
    ]
    out = rests(text, found, text_units(text, html=False), _free(text))
    assert [(r.snippet, r.category) for r, _, _ in out] == [("Harbour Gazette", "newsletter_cta")]


@pytest.mark.parametrize("blank", ["\n \n", "\n\t\n", "\r\n\r\n"])
def test_blank_lines_of_spaces_or_crlf_set_blocks_apart(blank: str) -> None:
    text = f"{STORY}\n\n{MENU}\n\n{BODY}".replace("\n\n", blank)
    if "\r" in blank:
        text = text.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    found = [
        _removed(text, text[text.index("Newsletter") : text.index("E-paper") + len("E-paper")], "navigation")
    ]
    out = rests(text, found, text_units(text, html=False), _free(text))
    assert [r.snippet for r, _, _ in out] == ["My account"]


def test_a_record_of_one_line_per_paragraph_under_a_title_is_no_block() -> None:
    """One blank line after the title and none after: the body is one block of short lines (a
    fixtures list among them), not a widget to finish."""
    text = (
        "Weekend fixtures announced for the coastal league\n\n"
        "Harbour FC v Coast United\nTown Rovers v City Athletic\n"
        "Sign up for our newsletter\nFollow us on Facebook\nShare this article\n"
    )
    found = [
        _removed(
            text, "Sign up for our newsletter\nFollow us on Facebook\nShare this article", "share_prompt"
        )
    ]
    assert rests(text, found, text_units(text, html=False), _free(text)) == []
    # with paragraphs set apart further down, a block holding most of the text's units is still none
    longer = text + "\nThe league said the dates were final.\n\nTickets go on sale on Monday."
    found = [
        _removed(
            longer, "Sign up for our newsletter\nFollow us on Facebook\nShare this article", "share_prompt"
        )
    ]
    assert rests(longer, found, text_units(longer, html=False), _free(longer)) == []
