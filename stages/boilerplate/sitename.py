"""The site's own name in a line: a page's notices and furniture name their site ("offers from
Diário da Serra Nova and its partners", "has been with the Brackenridge Sentinel since 2019",
"© L'Eco di Castelfiume 2024"), its story seldom does, and when it does ("told the Daily
Lantern") the model reads the line as prose.

The name is found from the document's URL: the host's name label (``dagbladhoorndijk`` of
``www.dagbladhoorndijk.nl``, ``skerryherald`` of ``skerryherald.co.uk``), written in a line as a
run of words whose letters, joined, spell it, skipping up to :data:`MAX_SKIPPED` short words
between or inside ("Dagblad *van* Hoorndijk", "*L'*Eco di Castelfiume", "Skerry *Isles* Herald",
"NewsFlow Hub"), accents dropped or German umlauts spelled out ("Seeländer Nachrichten" for
``seelaender-nachrichten``). An HTML page's ``sitename`` (trafilatura's metadata) is a second
spelling. A label shorter than :data:`MIN_LABEL` letters (``bbc``) is not looked for: too many
words spell it by chance.

:func:`~stages.boilerplate.learned.taken_units` takes a unit that names its site at
``boilerplate.model_threshold_site_name`` instead of the threshold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stages.boilerplate.siterules import host_of

#: The host's name label and the site name must have at least this many letters or digits.
MIN_LABEL = 6
#: Words a spelling of the name may skip (an article, "van", a middle word).
MAX_SKIPPED = 2
#: Second-level labels under a country's domain: ``example.co.uk`` is named ``example``.
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "gob", "ac", "edu", "nic", "or", "ne"})
_WORD = re.compile(r"[^\W_]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_HAS_UMLAUT = re.compile("[äöüßÄÖÜ]")
_LEADING_ARTICLE = re.compile(r"^(?:the|la|le|les|il|lo|el|los|las|de|het|der|die|das|o|a|os|as)\s+", re.I)


def _plain(word: str) -> str:
    """Lower case, accents dropped."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    # composed again: a Hangul syllable decomposes into letters that are no accents
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _letters(text: str) -> str:
    return "".join(_plain(w) for w in _WORD.findall(text))


def host_label(url: str | None) -> str | None:
    """The letters and digits of the name label of ``url``'s host (``dagbladhoorndijk`` of
    ``https://www.dagbladhoorndijk.nl/x``), or None when there is none of :data:`MIN_LABEL`."""
    host = host_of(url)
    if not host:
        return None
    labels = host.split(".")
    if len(labels) < 2:
        return None
    name = labels[-3] if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL else labels[-2]
    if name.startswith("xn--"):  # an internationalised name, as its letters
        try:
            name = name.encode("ascii").decode("idna")
        except UnicodeError:
            return None
    letters = _letters(name)
    return letters if len(letters) >= MIN_LABEL else None


@dataclass(frozen=True)
class SiteName:
    """The spellings of one site's name (folded letters), looked for in lines."""

    spellings: tuple[str, ...]

    @classmethod
    def of(cls, url: str | None, sitename: str | None = None) -> SiteName | None:
        """From a document's URL and, if any, its ``sitename`` metadata; None: no name to look for."""
        found = [label] if (label := host_label(url)) else []
        if sitename:
            letters = _letters(_LEADING_ARTICLE.sub("", sitename.strip()))
            if len(letters) >= MIN_LABEL and letters not in found:
                found.append(letters)
        return cls(tuple(found)) if found else None

    def named_in(self, text: str) -> bool:
        """Does ``text`` name the site: a run of its words that spells one of the names?"""
        plain = _WORD.findall(_plain(text))
        words: list[tuple[str, ...]] = [(p,) for p in plain]
        if _HAS_UMLAUT.search(text):  # the same words, umlauts spelled out ("Seeländer": "seelaender")
            german = _WORD.findall(_plain(text.lower().translate(_UMLAUTS)))
            if len(german) == len(plain):
                words = [(p,) if p == g else (p, g) for p, g in zip(plain, german, strict=True)]
        return any(
            _spells(name, words, i)
            for name in self.spellings
            for i, first in enumerate(plain)
            if first and name[0] == first[0]
        )


def _spells(name: str, words: list[tuple[str, ...]], i: int) -> bool:
    """Do the words from ``i`` on spell ``name``, each word used whole or skipped (at most
    :data:`MAX_SKIPPED`, never the first)? Greedy: a word that continues the name is used."""
    at = next((len(w) for w in words[i] if name.startswith(w)), 0)
    if not at:
        return False
    skipped = 0
    for spellings in words[i + 1 :]:
        if at == len(name):
            break
        step = next((len(w) for w in spellings if name.startswith(w, at)), 0)
        if step:
            at += step
        else:
            skipped += 1
            if skipped > MAX_SKIPPED:
                return False
    return at == len(name)
