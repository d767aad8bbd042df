"""Seeded synthetic news for the near-duplicate tests (no eval data needed): stories, syndicated
copies of them on other sites, and hard negatives (one site's template around different stories,
different stories quoting the same passage)."""

from __future__ import annotations

import random

WORDS = [
    "council",
    "budget",
    "school",
    "river",
    "harbour",
    "market",
    "police",
    "station",
    "minister",
    "election",
    "vote",
    "tax",
    "rise",
    "report",
    "water",
    "energy",
    "price",
    "family",
    "home",
    "road",
    "bridge",
    "hospital",
    "doctor",
    "nurse",
    "patient",
    "train",
    "bus",
    "museum",
    "festival",
    "summer",
    "winter",
    "storm",
    "flood",
    "farmer",
    "cheese",
    "bread",
    "coffee",
    "village",
    "town",
    "city",
    "court",
    "judge",
    "lawyer",
    "company",
    "worker",
    "strike",
    "union",
    "profit",
    "loss",
    "bank",
    "loan",
    "house",
    "rent",
    "student",
    "teacher",
    "library",
    "park",
    "garden",
    "tree",
    "bird",
    "fish",
    "boat",
    "ship",
    "port",
    "airport",
    "flight",
    "delay",
    "weather",
]

SITES = {
    "gazette": (
        "Home | News | Sport | Business | Opinion | Lifestyle | Weather",
        "Copyright 2024 The Millbrook Gazette. All rights reserved. Registered in England.",
    ),
    "herald": (
        "Subscribe to the Herald morning briefing: the day's top stories in your inbox.",
        "Follow the Harbour Herald on Facebook, X and Instagram for the latest local news.",
    ),
    "courier": (
        "Menu | Local | Region | World | Culture | Podcasts | Puzzles",
        "The Valley Courier is part of Valley Media Group. Terms and conditions apply.",
    ),
}


def article(rng: random.Random, n_words: int = 300) -> str:
    """A seeded pseudo-article: paragraphs of random sentences over a small vocabulary."""
    paras, count = [], 0
    while count < n_words:
        sentences = []
        for _ in range(rng.randint(2, 4)):
            k = rng.randint(8, 18)
            sentences.append(" ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + ".")
            count += k
        paras.append(" ".join(sentences))
    return "\n\n".join(paras)


def syndicate(rng: random.Random, text: str, trim: float = 0.1, edits: int = 2) -> str:
    """A copy: another headline, a trimmed tail, a few word edits."""
    words = text.split(" ")
    words = words[: int(len(words) * (1 - trim))]
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return "Other headline for the same story\n\n" + " ".join(words)


def page(site: str, headline: str, byline: str, body: str) -> str:
    """A story as a site publishes it (its template lines around the story)."""
    top, bottom = SITES[site]
    return f"{top}\n\n{headline}\n\n{byline}\n\n{body}\n\n{bottom}"


def syndicated_copy(rng: random.Random, body: str, site: str) -> str:
    """A wire story republished by another site: its own template, headline and byline, the last
    paragraph trimmed, a couple of words edited."""
    paras = body.split("\n\n")
    if len(paras) > 3:
        paras = paras[:-1]
    words = "\n\n".join(paras).split(" ")
    for _ in range(2):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    headline = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
    return page(site, headline, f"By {rng.choice(['Anna Keller', 'Tom Novak'])}, Reuters", " ".join(words))
