"""Lines that belong to a block removed next to them, whatever their wording.

A block the rules or the model remove often leaves a piece of itself behind when that piece is in
a phrasing they have not seen: the header over a headline list ("Worth a read:", "En ce moment »")
or one headline among removed ones. Their shape and their place give them away:

* a **block header**: a short line (at most :data:`HEADER_WORDS` words and :data:`HEADER_CHARS`
  characters) that ends like a label (``:``, ``»``, ``›``, ``>``, ``→``, ``…``, ``...``, ``!``) or is
  in capitals, right above a removal of a block category (:data:`BLOCK_CATEGORIES`) and not
  itself part of another removal;
* a **block item**: the one line between two removals of the same list category
  (:data:`BLOCK_CATEGORIES`) that does not read like a sentence (at most :data:`ITEM_WORDS` words,
  no sentence end even inside closing quotes);
* a **block tail** (:func:`tails`): the item-shaped units right below a removed headline list
  (:data:`LIST_TAIL`: the rest of its headlines, at most :data:`TAIL_ITEMS`) or video block
  (:data:`TITLE_TAIL`: the video's title, one unit). A sub-heading has the same shape, so where
  the article goes on right below the run, its last unit must share no content word with the
  document (:func:`~stages.boilerplate.learned.off_topic`; a sub-heading announces what follows),
  and a list's run must then keep two units: one headline-shaped line between a promo and the
  body is more often the body's own. Units that start with the list mark the removal's last
  line starts with ("» ", "- ") are the rest of its list whatever they say and whatever block
  the category head named (:func:`_last_mark`).

Each goes to the ledger under its own rule (``structure.block_header``, ``structure.block_item``,
``structure.block_tail``) with the category of the removal it belongs to; they are
``normal``-confidence removals and count against the removal budget, but never cost the document
its other removals: when they would take it over the budget, the stage removes what it found
without them. The header and item rules, measured (6 Dec 2026, after the removal budget moved
to 0.8): the synthetic train part (tuning) 0.878 -> 0.883 removal, exact 0.497 -> 0.509,
preservation 0.997 both; the synthetic test part (held out) 0.810 -> 0.815, exact 0.399 -> 0.410.
The tails (eighth session): tuning 0.901 -> 0.915, preservation 0.998 both; held out, the
synthetic test part 0.837 -> 0.855 and the hand-written set 0.883 -> 0.889, preservation 0.993
both.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import TypeAlias

import numpy as np

from pipeline.core.record import Removal
from stages.boilerplate.codes import Bools
from stages.boilerplate.engine import Found, author_name, group_text
from stages.boilerplate.learned import (
    SENTENCE_CLOSERS,
    WordCount,
    WordCounts,
    content_words,
    ends_sentence,
    heading_like,
    is_sentence,
    off_topic,
    touched,
)
from stages.boilerplate.rulepack import STRUCTURE_RULE_IDS, code_rule
from stages.boilerplate.units import Unit, text_units

#: A header has at most this many words and characters.
HEADER_WORDS = 5
HEADER_CHARS = 40
#: An item between two removals has 2 to this many words.
ITEM_WORDS = 20
ITEM_CHARS = 160

#: Removals whose headlines may go on below them (:func:`tails`), and how many units at most.
LIST_TAIL = frozenset({"promo_block", "related_links"})
TAIL_ITEMS = 6
#: Removals whose title may be left right below them (one unit).
TITLE_TAIL = frozenset({"video_caption"})

BLOCK_CATEGORIES = frozenset(
    {
        "promo_block",
        "related_links",
        "newsletter_cta",
        "video_caption",
        "navigation",
        "signup_notice",
        "paywall_notice",
        "share_prompt",
        "comments_prompt",
        "footer",
        "ad_marker",
    }
)

#: What a label ends with (``str.endswith``: a regex anchored at the end is tried at every offset).
_LABEL_ENDS = (":", "»", ">", "›", "→", "…", "!", "...")
_SENTENCE_END = ".?!;,:"


# Category "structure" in listings; each removal takes the category of the block it joins.
HEADER_RULE = code_rule(
    STRUCTURE_RULE_IDS[0],
    "structure",
    "A short label line right above a removed block (its header in a phrasing no rule knows).",
    "structure",
)
ITEM_RULE = code_rule(
    STRUCTURE_RULE_IDS[1],
    "structure",
    "The one non-sentence line between two removals of one list category (an item left behind).",
    "structure",
)
TAIL_RULE = code_rule(
    STRUCTURE_RULE_IDS[2],
    "structure",
    "Headline-shaped units right below a removed headline list or video block (its items or title).",
    "structure",
)
HEADLINE_RULE = code_rule(
    STRUCTURE_RULE_IDS[3],
    "promo_block",
    "Another story's headline under a label: a label line over two or more headline-shaped lines, or one "
    "line of a short label, a mark and a headline, whose words the article does not use.",
    "structure",
)
CAPTION_RULE = code_rule(
    STRUCTURE_RULE_IDS[4],
    "image_credit",
    'The caption line right above a removed image credit ("The couple on their wedding day" over '
    '"(Pic: ...)"): not a sentence, not a label, nothing between them.',
    "structure",
)
AUTHOR_RULE = code_rule(
    STRUCTURE_RULE_IDS[5],
    "author_bio_line",
    "A line about the byline's author: it starts with the name a byline rule lifted (or the page's "
    'author), or is a short non-sentence line naming them ("View all articles by ...").',
    "structure",
)
REST_RULE = code_rule(
    STRUCTURE_RULE_IDS[6],
    "structure",
    "The rest of a block of lines (no blank line between them) that removals took most of, when "
    "it is short lines that end no sentence: a menu's first entry, a list's header or last headline.",
    "structure",
)
RULES = (HEADER_RULE, ITEM_RULE, TAIL_RULE, HEADLINE_RULE, CAPTION_RULE, AUTHOR_RULE, REST_RULE)


def is_header(line: str) -> bool:
    """A label's shape: a few words ending in a label mark, or in capitals."""
    if len(line) > HEADER_CHARS or not 1 <= len(line.split()) <= HEADER_WORDS:
        return False
    # a stripped line's end; one line break after it is let through, as a regex's ``$`` would
    if (line[:-1] if line[-1] == "\n" else line).endswith(_LABEL_ENDS):
        return True
    return line[-1] not in ".?;," and line.isupper() and any(c.isalpha() for c in line)


def is_item(line: str, min_words: int = 2) -> bool:
    """A headline's or a link's shape: ``min_words`` (2; 1 for a menu entry, a label or a button)
    to :data:`ITEM_WORDS` words, at most :data:`ITEM_CHARS` characters, no sentence end."""
    if len(line) > ITEM_CHARS or not min_words <= len(line.split()) <= ITEM_WORDS:
        return False
    return line.rstrip(SENTENCE_CLOSERS)[-1:] not in _SENTENCE_END


def _line_before(text: str, start: int) -> tuple[int, int] | None:
    """The span (stripped) of the last non-blank line before offset ``start``, which must begin a
    line; None if ``start`` is inside a line or nothing comes before it."""
    head = text.rfind("\n", 0, start) + 1
    if text[head:start].strip():
        return None  # the removal starts inside a line (an inline rule's)
    end = head
    while end > 0 and text[end - 1].isspace():  # back over the blank lines (no copy of the text)
        end -= 1
    if end == 0:
        return None
    first = text.rfind("\n", 0, end) + 1
    while first < end and text[first].isspace():
        first += 1
    return first, end


def neighbours(
    text: str, found: Sequence[Found], disabled: frozenset[str] = frozenset(), kept: Sequence[Unit] = ()
) -> list[Found]:
    """The block headers and items next to the removals ``found`` (sorted by start, not
    overlapping), as removals of their own, in text order; never a line of the units ``kept``
    (in text order: those the model's gates keep, a text record's title between two menus)."""
    out: list[Found] = []
    previous_end = 0
    kept_ends = [u.end for u in kept]
    for k, (removal, _, _) in enumerate(found):
        span = _line_before(text, removal.start) if removal.category in BLOCK_CATEGORIES else None
        if span is not None and kept:
            j = bisect_right(kept_ends, span[0])  # the first kept unit that ends after the line starts
            if j < len(kept) and kept[j].start < span[1]:
                span = None
        if span is not None and span[0] >= previous_end:
            line = text[span[0] : span[1]]
            between = text[previous_end : span[0]]
            sandwiched = k > 0 and not between.strip() and "\n" in between
            same = sandwiched and found[k - 1][0].category == removal.category
            rule = HEADER_RULE if is_header(line) else ITEM_RULE if same and is_item(line) else None
            if rule is not None and rule.id not in disabled:
                out.append((Removal(rule.id, removal.category, span[0], span[1], line), rule, None))
        previous_end = removal.end
    return out


def tails(
    text: str,
    found: Sequence[Found],
    *,
    html: bool,
    units: Sequence[Unit] | None = None,
    kept: Bools | None = None,
    ruled: Bools | None = None,
) -> list[Found]:
    """The block tails (see the module docstring) below the removals ``found`` (sorted by start,
    not overlapping, the other structural removals among them), in text order. ``html``: the
    text is an HTML extraction; ``units``: its units (:func:`~stages.boilerplate.units.text_units`),
    made here when not given; ``kept``: the units the model's gates keep (the title, body prose),
    which a tail never takes; ``ruled``: the units ``found`` overlaps (:func:`touched`), worked out
    here when not given."""
    marks = [_last_mark(text, r) if r.category in BLOCK_CATEGORIES else "" for r, _, _ in found]
    limits = [_tail_limit(removal.category) for removal, _, _ in found]
    if not any(limits) and not any(marks):
        return []
    if units is None:
        units = text_units(text, html=html)
    starts = [u.start for u in units]
    free = ~(touched(units, found) if ruled is None else ruled)
    takeable = free if kept is None else free & ~kept
    words = None
    out: list[Found] = []
    for (removal, _, _), limit, mark in zip(found, limits, marks, strict=True):
        if not (limit or mark):
            continue
        first = bisect_left(starts, removal.end)
        # the rest of a marked list: item-shaped units starting with the mark its last line
        # starts with, whatever the article below says and whatever block the category head named
        run = _run(units, takeable, first, TAIL_ITEMS, mark) if mark else []
        if run:
            out.extend(_tail(text, removal, run))
            continue
        run = _run(units, takeable, first, limit)
        if not run:
            continue
        i = first + len(run)
        if i < len(units) and free[i]:  # the article goes on right below
            if words is None:  # of what is left: a headline another list repeats is off topic still
                words = WordCounts("\n".join(u.text for u, f in zip(units, free, strict=True) if f))
            if not off_topic(run[-1].text, words):
                run.pop()
            if removal.category in LIST_TAIL and len(run) < 2:
                run.clear()
        out.extend(_tail(text, removal, run))
    return out


def _run(units: Sequence[Unit], takeable: Bools, i: int, limit: int, mark: str = "") -> list[Unit]:
    """Up to ``limit`` takeable item-shaped units from ``units[i]`` on, all starting with ``mark``."""
    run: list[Unit] = []
    while i < len(units) and len(run) < limit and takeable[i] and is_item(units[i].text):
        if not units[i].text.startswith(mark):
            break
        run.append(units[i])
        i += 1
    return run


def _tail(text: str, removal: Removal, run: Sequence[Unit]) -> list[Found]:
    return [
        (Removal(TAIL_RULE.id, removal.category, u.start, u.end, text[u.start : u.end]), TAIL_RULE, None)
        for u in run
    ]


def _last_mark(text: str, removal: Removal) -> str:
    """The list mark ("»", "-", "•") the removal's last line starts with, or ""."""
    at = text.rfind("\n", removal.start, removal.end)  # the last line's start (the removal's own if one line)
    mark = text[removal.start if at < 0 else at + 1 : removal.end].lstrip()[:1]
    return mark if mark and mark in _MARKS else ""


def _tail_limit(category: str) -> int:
    return TAIL_ITEMS if category in LIST_TAIL else 1 if category in TITLE_TAIL else 0


#: A structural rule over the units: (text, the removals so far, the units, the free units) -> its removals.
UnitRule: TypeAlias = Callable[[str, Sequence[Found], Sequence[Unit], Bools], list[Found]]

#: A headline list has at least this many items, at most :data:`HEADLINE_ITEMS`.
HEADLINE_MIN_ITEMS = 2
HEADLINE_ITEMS = 8
#: What ends the label of a one-line teaser ("Catch up: ...", "Latest » ..."), after at most
#: :data:`HEADER_WORDS` words and :data:`HEADER_CHARS` characters.
_TEASER_MARK = re.compile(r"\s*(?:[:»›>→➔]|\s-|…|\.\.\.)\s*")


#: A number standing alone: a score, a table's row, a list of figures, all the article's own.
_NUMBER = re.compile(r"(?<!\w)\d+(?:[.,]\d+)*(?!\w)")


def foreign(text: str, document: WordCount) -> bool:
    """Whether fewer than half of ``text``'s content words occur elsewhere in the document (whose
    content words, ``text``'s among them, are ``document``): another story's headline, not one of
    the article's sub-headings or list items, which repeat its people, places and things. False
    for a text without content words, and for one holding a number standing alone ("Ashby
    Athletic 2 Canal Street 1" under "The results in full were:" is the article's)."""
    if _NUMBER.search(text):
        return False
    own = content_words(text)
    shared = sum(1 for w, n in own.items() if document[w] > n)
    return bool(own) and 2 * shared < len(own)


_BULLET = "-\u2013\u2014\u2022\u00b7*\u203a\u00bb>\u2192 "
#: The marks a list's items start with (:data:`_BULLET` without the space).
_MARKS = _BULLET.strip()


def is_headline(line: str) -> bool:
    """A headline's shape (:func:`~stages.boilerplate.learned.heading_like`: 4-20 words, no
    sentence end), after a list marker."""
    item = line.lstrip(_BULLET)
    return bool(item) and heading_like(item)


def _label_mark(line: str) -> re.Match[str] | None:
    """The mark after a short label that starts ``line`` (:data:`_TEASER_MARK`), or None."""
    mark = _TEASER_MARK.search(line, 1, HEADER_CHARS + 3)
    return mark if mark is not None and len(line[: mark.start()].split()) <= HEADER_WORDS else None


def teaser(line: str) -> str | None:
    """The headline of a one-line teaser: a short label, a label mark, then a headline's shape
    (:func:`~stages.boilerplate.learned.heading_like`); None for other lines."""
    mark = _label_mark(line)
    rest = line[mark.end() :] if mark is not None else ""
    return rest if rest and heading_like(rest) else None


def _colon_label(line: str) -> bool:
    mark = _label_mark(line)
    return mark is not None and ":" in mark.group()


def _listed(units: Sequence[Unit], i: int) -> bool:
    """Whether ``units[i]`` and the unit before or after it both start with a short label and a
    colon: ``term: what it means`` lines in a row are the article's list, not teasers."""
    return _colon_label(units[i].text) and any(
        0 <= j < len(units) and _colon_label(units[j].text) for j in (i - 1, i + 1)
    )


def captions(text: str, found: Sequence[Found], units: Sequence[Unit], free: Bools) -> list[Found]:
    """The captions of the image credits in ``found`` (sorted by start): the unit right above a
    credit, on the line before it (no blank line between), when it is item-shaped
    (:func:`is_item`: a caption is no sentence) and no label (:func:`is_header`). ``free``: the
    units nothing removes and no gate keeps (a text record's title above its picture's credit is
    kept)."""
    ends = [u.end for u in units]
    out: list[Found] = []
    for removal, _, _ in found:
        if removal.category != "image_credit":
            continue
        k = bisect_right(ends, removal.start) - 1  # the last unit that ends before the credit
        if k < 0 or not free[k]:
            continue
        unit, between = units[k], text[units[k].end : removal.start]
        if between.strip() or between.count("\n") > 1 or not is_item(unit.text) or is_header(unit.text):
            continue
        out.append(
            (
                Removal(CAPTION_RULE.id, "image_credit", unit.start, unit.end, text[unit.start : unit.end]),
                CAPTION_RULE,
                None,
            )
        )
    return out


def headlines(text: str, found: Sequence[Found], units: Sequence[Unit], free: Bools) -> list[Found]:
    """Other stories' headlines that no rule or model took, by shape alone (see
    :data:`HEADLINE_RULE`): a label line (:func:`is_header`) over :data:`HEADLINE_MIN_ITEMS` or more
    headlines (:func:`is_headline`) most of which are :func:`foreign`, or one :func:`teaser` whose
    headline is foreign, unless it is one of several ``label: text`` lines in a row; only in a text
    that :func:`reads_as_article`. The label may be one another rule already took (a learned site
    line, a pack rule): its headlines still go. ``free``: the units nothing removes and no gate
    keeps; ``found``: the removals so far."""
    words: WordCounts | None = None  # the document's content words, once a shape is found

    def foreign_here(texts: Sequence[str]) -> int:
        nonlocal words
        words = WordCounts(text) if words is None else words
        return sum(foreign(t, words) for t in texts)

    out: list[Found] = []
    # the masks as lists: read a unit at a time, a list's item costs a third of an array's
    is_free, removed = free.tolist(), touched(units, found).tolist()
    i, n = 0, len(units)
    while i < n:
        if not (is_free[i] or removed[i]):
            i += 1
            continue
        line = units[i].text
        if is_header(line):
            j = i + 1
            while j < n and j - i <= HEADLINE_ITEMS and is_free[j] and is_headline(units[j].text):
                j += 1
            items = [u.text for u in units[i + 1 : j]]
            if len(items) >= HEADLINE_MIN_ITEMS and 2 * foreign_here(items) >= len(items):
                out.extend(_headline(text, u) for u in units[i + removed[i] : j])
                i = j
                continue
        elif is_free[i] and is_item(line):
            headline = teaser(line)
            if headline is not None and not _listed(units, i) and foreign_here([headline]):
                out.append(_headline(text, units[i]))
        i += 1
    # the shapes are rare and cheap to look for; whether the text is an article is asked last
    return out if out and reads_as_article(units) else []


#: The share of a text's characters its body prose must hold for :func:`headlines` to read it.
ARTICLE_PROSE_SHARE = 0.4


def reads_as_article(units: Sequence[Unit]) -> bool:
    """Whether sentences (:func:`~stages.boilerplate.learned.is_sentence` units) hold at least
    :data:`ARTICLE_PROSE_SHARE` of the units' characters: an article, beside which a list of
    headlines is another story's. On a listing or collection page the headlines are the content."""
    prose = sum(len(u.text) for u in units if is_sentence(u.text))
    return prose >= ARTICLE_PROSE_SHARE * sum(len(u.text) for u in units)


def _headline(text: str, unit: Unit) -> Found:
    return (
        Removal(HEADLINE_RULE.id, "promo_block", unit.start, unit.end, text[unit.start : unit.end]),
        HEADLINE_RULE,
        None,
    )


#: A line starting with the author's name is about them up to this many words (a bio, a contact line).
AUTHOR_LINE_WORDS = 40
#: A line naming the author anywhere is about them when it is this short and no sentence.
AUTHOR_MENTION_WORDS = 10


def author_names(text: str, found: Sequence[Found]) -> list[str]:
    """The author names the byline rules of ``found`` lifted (as the ``author`` field gets them),
    those of two words or more (a first name alone says too little)."""
    names = [
        author_name(group_text(text, removal, match, "author").strip())
        for removal, rule, match in found
        if rule.meta == "author" and match is not None
    ]
    return [name for name in names if len(name.split()) >= 2]


def model_byline_names(found: Sequence[Found]) -> list[str]:
    """The names of the model's one-line byline removals in ``found`` (:func:`byline_name`)."""
    names = (
        byline_name(removal.snippet)
        for removal, _, match in found
        if match is None and removal.category == "byline" and removal.score is not None
    )
    return [name for name in names if name]


#: What comes before a byline's name: a one-word label ("Autor:", "Texto:") or a preposition.
_BYLINE_LEAD = re.compile(
    r"^(?:[^\W\d_]+\s*:\s*|(?:(?:written|words|reporting|text|story|posted)\s+)?(?:by|von|par|por|di|door|da|de|av|af)\s+)",
    re.IGNORECASE,
)
#: The same after up to three more words: "Texte et photos :", "Propos recueillis par", "A cura di".
#: Tried after the one-word lead and after a name with its role, so that "Maria de la Cruz,
#: reporter" keeps its whole name.
_LONG_BYLINE_LEAD = re.compile(
    r"^(?:[^\W\d_]+\s+){1,3}?(?:[^\W\d_]+\s*:\s*|(?:by|von|par|por|di|door|da|de|av|af)\s+)",
    re.IGNORECASE,
)
#: The particles inside names ("Maria de la Cruz", "Ahmed al-Sayed").
_PARTICLES = frozenset(
    {
        "de",
        "da",
        "das",
        "do",
        "dos",
        "van",
        "von",
        "der",
        "den",
        "di",
        "del",
        "della",
        "la",
        "le",
        "du",
        "al",
        "el",
        "y",
        "zu",
        "ten",
        "ter",
    }
)
#: A name does not start with an article: "The Council", "Die Redaktion" are no one's.
_ARTICLES = frozenset(
    {
        "the",
        "a",
        "an",
        "der",
        "die",
        "das",
        "le",
        "la",
        "les",
        "el",
        "los",
        "las",
        "il",
        "lo",
        "gli",
        "het",
        "de",
        "o",
        "os",
        "as",
        "um",
        "uma",
        "un",
        "une",
        "ein",
        "eine",
    }
)
#: Where a name ends in a byline: a role or a date after a mark.
_NAME_END = re.compile(r"\s*(?:[,|·•;(]|\s[-\u2013\u2014]\s|\.\s|\.$)")


def byline_name(line: str) -> str:
    """The name a byline line gives after its label or preposition ("Von Katrin Aschenbrenner,
    Redakteurin" -> "Katrin Aschenbrenner", "Autor: Gerlinde Haas · Lokalredaktion" -> "Gerlinde
    Haas"), or before a role ("Lucía Mendaza | Redactora"), or after a longer label ("Propos
    recueillis par Manon Marchand"): two or three capitalised words (and the particles between
    them), not starting with an article; "" for a line of another shape."""
    line = " ".join(line.split()).lstrip(_BULLET)
    for lead in (_BYLINE_LEAD, None, _LONG_BYLINE_LEAD):
        name = _name_after(line, lead)
        if name:
            return name
    return ""


def _name_after(line: str, lead: re.Pattern[str] | None) -> str:
    """:func:`byline_name` after a match of ``lead`` at the line's start ("" when it does not
    match), or with None, before a role."""
    found = lead.match(line) if lead is not None else None
    if lead is not None and found is None:
        return ""
    rest = line[found.end() :] if found else line
    cut = _NAME_END.search(rest)
    if found is None and (cut is None or cut.group().strip() in (".", "")):
        return ""  # without a label or preposition, only "Name, role" or "Name | role" is a byline
    words = (rest[: cut.start()] if cut else rest).split()
    name: list[str] = []
    for w in words:
        if (
            (w[:1].isupper() and w[1:2] != ".")
            or (len(w) == 2 and w[0].isupper() and w[1] == ".")
            or w.lower().rstrip("-'’") in _PARTICLES
            or w.lower().startswith(("al-", "d'", "d’"))
        ):
            name.append(w)
        else:
            break
    while name and not name[-1][:1].isupper():  # a name ends with a capitalised word
        name.pop()
    capitals = [w for w in name if w[:1].isupper()]
    if not 2 <= len(capitals) <= 3 or name[0].lower() in _ARTICLES:
        return ""
    return author_name(" ".join(name))


def author_lines(
    text: str, found: Sequence[Found], units: Sequence[Unit], free: Bools, *, page_author: str | None = None
) -> list[Found]:
    """Lines about the author (:data:`AUTHOR_RULE`): a unit of at most :data:`AUTHOR_LINE_WORDS`
    words that starts with the name a byline rule lifted (:func:`author_names`; after a list
    marker, the name followed by a space, a comma or a bracket: "Grace Greaves is a senior writer
    ...", "Sara Moretti (redazione) è raggiungibile a ..."), or one of at most
    :data:`AUTHOR_MENTION_WORDS` words and no sentence that names them or ``page_author`` (the
    page's author metadata, which may be an organisation: "BBC News has seen letters ..." is the
    story's) as whole words. ``free``: the units nothing removes and no gate keeps."""
    bylines = author_names(text, found)
    starts = [*bylines, *model_byline_names(found)]  # the model's names only start a line about them
    page = author_name(page_author) if page_author else ""
    mentioned = [*bylines, page] if len(page.split()) >= 2 else bylines
    if not (mentioned or starts):
        return []
    out: list[Found] = []
    for unit, ok in zip(units, free.tolist(), strict=True):
        line = unit.text.lstrip(_BULLET)
        if ok and (any(_starts_with(line, n) for n in starts) or any(_names(line, n) for n in mentioned)):
            removal = Removal(
                AUTHOR_RULE.id, "author_bio_line", unit.start, unit.end, text[unit.start : unit.end]
            )
            out.append((removal, AUTHOR_RULE, None))
    return out


def _starts_with(line: str, name: str) -> bool:
    """``line`` starts with ``name`` and a space, comma or bracket, and has at most
    :data:`AUTHOR_LINE_WORDS` words."""
    return (
        line.startswith(name)
        and line[len(name) : len(name) + 1] in (" ", ",", "(")
        and len(line.split()) <= AUTHOR_LINE_WORDS
    )


def _names(line: str, name: str) -> bool:
    """``line`` is a short non-sentence (:data:`AUTHOR_MENTION_WORDS` words at most) that holds
    ``name`` as whole words, in any case."""
    if len(line.split()) > AUTHOR_MENTION_WORDS or ends_sentence(line):
        return False
    return re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", line.lower()) is not None


def _breaks(gap: str) -> int:
    """The line breaks in ``gap``, of any kind ``str.splitlines`` knows (``\\n``, ``\\r\\n``, ``\\r``,
    ``\\u2028`` ...)."""
    return len((gap + "x").splitlines()) - 1


def blocks(text: str, units: Sequence[Unit]) -> list[list[int]]:
    """The units grouped into blocks: runs of units with no blank line between them (a line of
    spaces or tabs is blank)."""
    out: list[list[int]] = []
    for i, u in enumerate(units):
        # most gaps are one blank line, "\n\n": two breaks, not counted
        if out and (gap := text[units[i - 1].end : u.start]) != "\n\n" and _breaks(gap) <= 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out


#: A unit counts as removed for :func:`rests` when removals cover this share of its characters:
#: an inline notice cut out of a paragraph leaves the paragraph standing.
REST_COVERED = 0.8


def covered(units: Sequence[Unit], found: Sequence[Found], share: float = REST_COVERED) -> Bools:
    """The units whose characters the removals ``found`` (sorted by start, not overlapping) cover
    by at least ``share``."""
    out = np.zeros(len(units), dtype=bool)
    k = 0
    for i, u in enumerate(units):
        while k < len(found) and found[k][0].end <= u.start:
            k += 1
        got, j = 0, k
        while j < len(found) and found[j][0].start < u.end:
            got += min(u.end, found[j][0].end) - max(u.start, found[j][0].start)
            j += 1
        out[i] = got >= share * (u.end - u.start)
    return out


def rests(
    text: str, found: Sequence[Found], units: Sequence[Unit], free: Bools, *, html: bool = False
) -> list[Found]:
    """The units left of a block (:func:`blocks`) whose units the removals ``found`` (sorted by
    start, not overlapping) took at least half of (:func:`covered`), when every one left is a
    short line (:func:`is_item` of one word or more) and ``free``. Only in a text record whose paragraphs blank
    lines set apart: three blocks or more, and never a block holding most of the text's units (a
    record of one line per paragraph under a title). ``html``: an extraction, one line a paragraph."""
    if html or not found:
        return []
    groups = blocks(text, units)
    if len(groups) < 3:
        return []
    # a block of one unit leaves nothing beside what was removed: in a record of one paragraph a
    # line (most), no block needs the removals' cover worked out
    shared = [block for block in groups if len(block) > 1]
    if not shared:
        return []
    removed = covered(units, found)
    if not removed.any():
        return []
    ends = [r.end for r, _, _ in found]
    out: list[Found] = []
    for block in shared:
        gone = [i for i in block if removed[i]]
        left = [i for i in block if not removed[i]]
        if not gone or not left or 2 * len(gone) < len(block) or 2 * len(block) > len(units):
            continue
        if not all(free[i] and is_item(units[i].text, min_words=1) for i in left):
            continue
        # the block's first removed unit's removal: the first one that ends after the unit starts
        category = found[bisect_right(ends, units[gone[0]].start)][0].category
        out.extend(
            (
                Removal(
                    REST_RULE.id, category, units[i].start, units[i].end, text[units[i].start : units[i].end]
                ),
                REST_RULE,
                None,
            )
            for i in left
        )
    return out
