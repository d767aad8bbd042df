"""boilerplate: the rule engine over lines, spans and blocks (:mod:`.engine`), the stage that runs it
over documents within the removal budget (:mod:`.stage`), rule packs kept as
data (:mod:`.rulepack`, ``rules/*.toml``) and their checks (:mod:`.rulecheck`), site rules learned
from a corpus (:mod:`.sitelearn`) and the dates read from bylines and timestamps (:mod:`.dates`).

May import: ``pipeline.core`` only.
"""

from stages.boilerplate.engine import apply_removals, clean, find_removals
from stages.boilerplate.stage import Boilerplate

__all__ = ["Boilerplate", "apply_removals", "clean", "find_removals"]
