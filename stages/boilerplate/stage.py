"""The ``boilerplate`` stage: the rule engine (:mod:`stages.boilerplate.engine`) over each document,
with its site rules, then the learned model (:mod:`stages.boilerplate.learned`) over what the rules
left, the removal budget, and the bylines and dates the rules lift out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import ClassVar

from pipeline.core.blocks import nonspace
from pipeline.core.config import BoilerplateConfig
from pipeline.core.record import Doc
from pipeline.core.stage import BatchedDocStage, RejectRecord
from stages.boilerplate.codes import Bools
from stages.boilerplate.engine import (
    Found,
    RuleSet,
    _cleaned,
    find_removals,
    rule_set,
)
from stages.boilerplate.learned import Pending, Thresholds, decide, load_model, pending, touched
from stages.boilerplate.model import LineModel
from stages.boilerplate.neighbours import (
    AUTHOR_RULE,
    CAPTION_RULE,
    HEADLINE_RULE,
    REST_RULE,
    TAIL_RULE,
    UnitRule,
    author_lines,
    captions,
    headlines,
    neighbours,
    rests,
    tails,
)
from stages.boilerplate.rulepack import SITE_PREFIX, STRUCTURE_RULE_IDS, Rule, check_disabled, load_rules
from stages.boilerplate.sitefile import load_site_rules
from stages.boilerplate.sitename import SiteName
from stages.boilerplate.siterules import SiteRules
from stages.boilerplate.units import Unit, text_units

#: Removals smaller than this (non-blank characters, ``normal`` confidence) never trip the budget:
#: a one-sentence article under a three-headline promo list is cleaned, not flagged. A misfire that
#: guts a real article takes far more than this.
MIN_BUDGET_CHARS = BoilerplateConfig.budget_min_chars


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """How much of a text the ``normal``-confidence removals would take (non-blank characters)."""

    risky: int
    size: int

    @property
    def share(self) -> float:
        return self.risky / self.size if self.size else 0.0

    def exceeds(self, max_share: float, min_chars: int = MIN_BUDGET_CHARS) -> bool:
        return self.risky >= min_chars and self.share > max_share


@dataclass(slots=True)
class _Size:
    """``nonspace(text)``, counted when first asked for and then remembered: the budget checks of
    one document ask for it up to three times (~35 us each on a 4 KB text)."""

    text: str
    counted: int = -1

    def __call__(self) -> int:
        if self.counted < 0:
            self.counted = nonspace(self.text)
        return self.counted


def _counted(found: Sequence[Found]) -> Iterator[tuple[str, int]]:
    """Each removal that counts against the budget (not by a ``confidence = "high"`` rule): its
    rule id and its non-blank characters."""
    return (
        (removal.rule, nonspace(removal.snippet)) for removal, rule, _ in found if rule.confidence != "high"
    )


def _risky(found: Sequence[Found]) -> int:
    return sum(chars for _, chars in _counted(found))


def _biggest(found: Sequence[Found], n: int = 3) -> str:
    """The ``n`` rules whose counted removals take the most characters: ``"mine.all 368"``, so a
    flagged or rejected document names the rule that misfired."""
    taken: Counter[str] = Counter()
    for rid, chars in _counted(found):
        taken[rid] += chars
    return ", ".join(f"{rid} {chars}" for rid, chars in taken.most_common(n))


def budget_use(text: str, found: Sequence[Found]) -> BudgetUse:
    """What the removals in ``found`` would spend of the removal budget.

    Removals by ``confidence = "high"`` rules (fixed, unambiguous forms such as a consent notice)
    do not count: a two-sentence article with a long cookie banner is cleaned, not flagged. What
    the budget guards against is a rule misfiring on article text, and only the flexible rules
    (headline lists, captions, learned site lines) can do that.
    """
    return BudgetUse(risky=_risky(found), size=nonspace(text))


class Boilerplate(BatchedDocStage[Pending, list[Found]]):
    """Rule packs (built-in and ``rule_files``), optional learned site rules, and the learned
    model (``boilerplate.model``) for what the rules leave: see :mod:`stages.boilerplate.learned`.

    The model scores the units of every document of a batch at once (:meth:`answer_all`): numpy's
    fixed cost per call is paid once per batch, not once per document.

    A document whose removals would exceed ``max_removed_share`` of its text (and at least
    ``boilerplate.budget_min_chars`` characters; ``confidence = "high"`` rules do not count, the
    model's removals do) is kept unchanged and flagged ``removal_budget_exceeded`` (or rejected
    with reason ``removal_budget`` when ``on_budget_exceeded = "reject"``).
    """

    name = "boilerplate"
    #: 64 records' units, not 256: the model's arrays for 256 news records (~600k hashed features,
    #: ~5 MB an array) outgrow the CPU's caches, and the model scored ~15% slower a record (the
    #: stage ~3%); 64 still pay numpy's fixed cost per call once for ~3,000 units.
    answer_chunk: ClassVar[int] = 64

    def __init__(self, config: BoilerplateConfig | None = None, site_rules: SiteRules | None = None) -> None:
        super().__init__()
        self.config = cfg = config or BoilerplateConfig()
        self.rules = load_rules(cfg.packs, cfg.rule_files, cfg.disabled_rules)
        self.disabled_structure = frozenset(cfg.disabled_rules) & frozenset(STRUCTURE_RULE_IDS)
        if site_rules is None and cfg.site_rules_file:
            site_rules = load_site_rules(cfg.site_rules_file)
        site_rules = site_rules or SiteRules()
        disabled_sites = [rid for rid in cfg.disabled_rules if rid.startswith(SITE_PREFIX)]
        check_disabled(disabled_sites, site_rules.ids)  # pack rule ids: checked by load_rules
        self.site_rules = site_rules.without(disabled_sites)
        # per host with learned lines: (that host's learned rules, pack + learned rules prepared)
        self._site_sets: dict[int, tuple[tuple[Rule, ...], RuleSet]] = {}
        self._soft_sets: dict[int, tuple[tuple[Rule, ...], RuleSet]] = {}
        #: the model's thresholds for a text record (False) and for an HTML extraction (True)
        self._thresholds = {html: Thresholds.of(cfg, html) for html in (False, True)}
        # loaded (once per process) here, so that a missing or bad model file is a ConfigError
        # (ModelError) when the pipeline is built, from Python as from the command line, not a
        # stage_error on every record; a worker unpickles the stage and loads it on first use
        load_model(cfg.model)

    @cached_property
    def rule_set(self) -> RuleSet:
        """The rules prepared (shared by stages with the same rules). Built on first use: a
        coordinator that hands the stage to worker processes never needs it (~0.25 s)."""
        return rule_set(self.rules)

    @property
    def model(self) -> LineModel | None:
        """The learned model (None for ``boilerplate.model = "none"``), loaded once per process
        (:func:`~stages.boilerplate.learned.load_model`), so the stage pickles without it."""
        return load_model(self.config.model)

    def rules_for(self, url: str | None) -> tuple[Rule, ...]:
        """Pack rules first (they name the category precisely), then the site's learned lines."""
        site = self.site_rules.rules_for(url)
        return self.rules + site if site else self.rules

    def rule_set_for(self, url: str | None) -> RuleSet:
        """:meth:`rules_for`, prepared once per host (``SiteRules`` hands out one tuple per host)."""
        site = self.site_rules.rules_for(url)
        if not site:
            return self.rule_set
        return _cached(self._site_sets, site, self.rules + site)

    def soft_set_for(self, url: str | None) -> RuleSet | None:
        """The host's soft site lines prepared (None: it has none)."""
        soft = self.site_rules.rules_for(url, soft=True)
        return _cached(self._soft_sets, soft, soft) if soft else None

    def over_budget(self, text: str, found: Sequence[Found], size: _Size | None = None) -> BudgetUse | None:
        """The budget use when ``found`` exceeds the budget (see :class:`BudgetUse`), else None.

        The text's size is counted only when the removals are big enough to matter (``size``:
        ``text``'s, remembered across calls).
        """
        risky = _risky(found)
        if risky < self.config.budget_min_chars:
            return None
        use = BudgetUse(risky=risky, size=(size or _Size(text))())
        return use if use.exceeds(self.config.max_removed_share, self.config.budget_min_chars) else None

    def prepare(self, doc: Doc) -> Pending | None:
        """The rules' removals and the units the model may score; without a model the rules'
        removals are made here (None: nothing left for the model)."""
        found = find_removals(doc.text, self.rule_set_for(doc.url))
        model = self.model
        if model is None:
            self.apply(doc, found)
            return None
        soft = self.soft_set_for(doc.url)
        where = find_removals(doc.text, soft) if soft is not None else []
        html = doc.format == "html"
        limits = self._thresholds[html]
        site = SiteName.of(doc.url, doc.sitename) if limits.below(limits.named) is not None else None
        return pending(doc.text, html, found, model, where, site)

    def answer_all(self, items: Sequence[Pending]) -> list[list[Found]]:
        """The model's removals, per document, scored in one batch (scores do not depend on it)."""
        model = self.model
        assert model is not None  # prepare hands out items only with a model
        return decide(model, items, self._thresholds.__getitem__)

    def finish(self, doc: Doc, item: Pending, answer: list[Found]) -> None:
        self.apply(doc, item.found, answer, item.units, item.kept)

    def model_share_exceeded(self, text: str, by_model: Sequence[Found], size: _Size | None = None) -> bool:
        """Whether the model's removals alone would take more than ``max_removed_share`` of
        ``text``'s non-blank characters. The removal budget spares small removals
        (``budget_min_chars``); this does not: the model may not empty a short document either.
        Its removals are then not made (the rules' still are)."""
        taken = sum(nonspace(removal.snippet) for removal, _, _ in by_model)
        return taken > self.config.max_removed_share * max(1, (size or _Size(text))())

    def _with_structure(
        self, doc: Doc, found: Sequence[Found], units: Sequence[Unit] | None, kept: Bools | None, size: _Size
    ) -> tuple[Sequence[Found], BudgetUse | None]:
        """``found`` with what the removed blocks left behind (:mod:`.neighbours`), unless that
        would take the document over the removal budget that ``found`` alone keeps to; and what
        the removals returned would spend over the budget (None: within it). ``kept``: the units
        (of ``units``) the gates keep, which no tail takes."""
        protected = [u for u, k in zip(units, kept, strict=True) if k] if units and kept is not None else []
        left = neighbours(doc.text, found, self.disabled_structure, protected)
        both = sorted([*found, *left], key=lambda f: f[0].start) if left else found
        html = doc.format == "html"
        by_shape: tuple[tuple[Rule, UnitRule], ...] = (
            (CAPTION_RULE, captions),
            (HEADLINE_RULE, headlines),
            (AUTHOR_RULE, partial(author_lines, page_author=doc.author)),
            (REST_RULE, partial(rests, html=html)),
        )
        rules = [(rule, find) for rule, find in by_shape if rule.id not in self.disabled_structure]
        with_tails = TAIL_RULE.id not in self.disabled_structure
        if not (rules or with_tails):
            return self._within_budget(doc.text, found, both, size)
        units = text_units(doc.text, html=html) if units is None else units
        ruled = touched(units, both)  # with the tails' removals added: ``free`` starts from it
        if with_tails:
            below = tails(doc.text, both, html=html, units=units, kept=kept, ruled=ruled)
            if below:
                both = sorted([*both, *below], key=lambda f: f[0].start)
                ruled |= touched(units, below)
        if rules:
            free = ~ruled if kept is None else ~ruled & ~kept
            if html or kept is None:  # an extraction's first unit is the page's headline; without
                free[:1] = False  # the model's gates to find a text record's title, its first unit stays
            for _, find in rules:  # each sees what the ones before it took
                more = find(doc.text, both, units, free)
                if more:
                    free &= ~touched(units, more)
                    both = sorted([*both, *more], key=lambda f: f[0].start)
        return self._within_budget(doc.text, found, both, size)

    def _within_budget(
        self, text: str, found: Sequence[Found], both: Sequence[Found], size: _Size
    ) -> tuple[Sequence[Found], BudgetUse | None]:
        """``both`` (``found`` and the structural removals) with what it would spend over the
        budget (None: within it); ``found`` alone when only the structural removals take the
        text over it."""
        use = self.over_budget(text, both, size)
        if use is not None and both is not found and self.over_budget(text, found, size) is None:
            return found, None
        return both, use

    def apply(
        self,
        doc: Doc,
        found: Sequence[Found],
        by_model: Sequence[Found] = (),
        units: Sequence[Unit] | None = None,
        kept: Bools | None = None,
    ) -> None:
        """Cut the rules' removals ``found`` and the model's ``by_model`` (each in text order, not
        overlapping each other) out of ``doc`` within the budget, and lift the metadata the rules
        found. ``units``: the text's units when the caller has them (else made when needed)."""
        size = _Size(doc.text)
        if by_model and not self.model_share_exceeded(doc.text, by_model, size):
            found = sorted([*found, *by_model], key=lambda f: f[0].start)
        if not found:
            return
        found, use = self._with_structure(doc, found, units, kept, size)
        if use is not None:
            # the model's removals carry its score (under a soft site line's id too)
            who = "rules and the model" if any(r.score is not None for r, _, _ in found) else "rules"
            detail = (
                f"{who} would remove {use.share:.0%} of the text ({use.risky} characters) > "
                f"boilerplate.max_removed_share={self.config.max_removed_share:.0%}; most by {_biggest(found)}"
            )
            if self.config.on_budget_exceeded == "reject":
                raise RejectRecord("removal_budget", detail)
            doc.flags.append("removal_budget_exceeded")
            doc.detail = detail
            return
        result = _cleaned(doc.text, found)
        doc.text = result.text
        doc.removed.extend(result.removed)
        if self.config.extract_metadata:
            doc.author = doc.author or result.author
            doc.date = doc.date or result.date


def _cached(
    cache: dict[int, tuple[tuple[Rule, ...], RuleSet]], key: tuple[Rule, ...], rules: tuple[Rule, ...]
) -> RuleSet:
    """``rules`` prepared once per ``key`` (the tuple ``SiteRules`` hands out for one host)."""
    cached = cache.get(id(key))
    if cached is None or cached[0] is not key:
        cached = (key, RuleSet(rules))
        cache[id(key)] = cached
    return cached[1]
