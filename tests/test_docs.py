"""The README's opening example and the package docstring run as written; its config example loads."""

from __future__ import annotations

import doctest
import re
import tomllib

import pipeline
from pipeline.core.config import Config
from tests.conftest import REPO


def test_readme_opening_example_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(>>> .*?)```", readme, re.S)
    assert block is not None
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.group(1), {}, "README", "README.md", 0)
    result = doctest.DocTestRunner().run(test)
    assert result.attempted >= 2 and result.failed == 0


def test_package_docstring_example_runs() -> None:
    result = doctest.testmod(pipeline)
    assert result.attempted >= 2 and result.failed == 0


def test_readme_config_example_is_a_valid_config() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    cfg = Config.from_dict(tomllib.loads(block.group(1)))
    assert cfg.extract.fast and cfg.language.backend == "langdetect" and cfg.run.batch_chars == 2_000_000
