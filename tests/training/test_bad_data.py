"""``cleanwire train --data FILE``: a labelled file that cannot train a model is an input error
(exit 3, one ``error:`` line and a ``hint:``) naming the record, before any fitting; never a
scikit-learn traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import InputError
from pipeline.evaluation.data import load_news_file
from pipeline.training.labelled import read_news_file

NO_DEFAULTS = ["--without", "newsboiler", "--without", "wcxb-train", "--without", "synthetic"]
SITES = ("alpha.example", "beta.example", "gamma.example")
BOILER = (
    ("newsletter_cta", "Sign up for our daily newsletter"),
    ("footer", "Copyright 2024 All rights reserved"),
    ("image_credit", "The old harbour wall (Photo: Reuters)"),
)
Row = dict[str, Any]


def documents() -> list[Row]:
    """12 small text scrapes on 3 sites, two boilerplate items each (valid)."""
    rows = []
    for i in range(12):
        title = f"Council approves plan number {i} for the harbour"
        body = [
            f"The city council voted on Tuesday to approve plan {i}, which will rebuild the old harbour "
            "walls over the next three years.",
            "Residents who attended the meeting said they were relieved that the work would finally "
            "begin after years of delay.",
        ]
        category, text = BOILER[i % 3]
        rows.append(
            {
                "id": f"mine-{i}",
                "url": f"https://{SITES[i % 3]}/news/{i}",
                "format": "text",
                "lang": "en",
                "raw": "\n\n".join([title, body[0], text, body[1], "Share this article"]),
                "gold_text": "\n\n".join([title, *body]),
                "boilerplate": [
                    {"category": category, "text": text},
                    {"category": "share_prompt", "text": "Share this article"},
                ],
                "notes": "",
            }
        )
    return rows


def _edit(k: int, change: Callable[[Row], None]) -> Callable[[list[Row]], list[Row]]:
    def edit(rows: list[Row]) -> list[Row]:
        change(rows[k])
        return rows

    return edit


def _no_boilerplate(rows: list[Row]) -> list[Row]:
    for r in rows:
        del r["boilerplate"]
    return rows


def _items_not_in_raw(rows: list[Row]) -> list[Row]:
    for r in rows:
        r["boilerplate"] = [{"category": "footer", "text": "Not written anywhere in this page"}]
    return rows


def _set(key: str, value: Any) -> Callable[[Row], None]:
    return lambda r: r.__setitem__(key, value)


#: name, how the valid documents are spoilt (None: an empty file; a string: the file's text),
#: what the error line must say.
BAD: list[tuple[str, Callable[[list[Row]], list[Row]] | str | None, tuple[str, ...]]] = [
    (
        "no boilerplate key anywhere",
        _no_boilerplate,
        ("labelled data holds no boilerplate unit", "mine: 12 documents"),
    ),
    (
        "the only item is not in raw",
        _items_not_in_raw,
        (
            "line 1 (record 'mine-0'): boilerplate item 1",
            '"Not written anywhere in this page"',
            "does not occur in its raw",
            "11 more",
        ),
    ),
    (
        "one item of many is not in raw",
        _edit(4, lambda r: r["boilerplate"].append({"category": "byline", "text": "By Jane Doe"})),
        ("line 5 (record 'mine-4'): boilerplate item 3 (byline, \"By Jane Doe\") does not occur in its raw",),
    ),
    (
        "format pdf",
        _edit(2, _set("format", "pdf")),
        ("line 3 (record 'mine-2'): format 'pdf' is not one of html, text",),
    ),
    ("empty file", None, ("no labelled documents in",)),
    ("blank lines only", "\n  \n", ("no labelled documents in",)),
    (
        "misspelt category",
        _edit(1, lambda r: r["boilerplate"][0].__setitem__("category", "footre")),
        ("record 'mine-1'", "unknown category 'footre'", "known: ad_marker, author_bio_line,", " footer, "),
    ),
    ("bad JSON", '{"id": "x", "raw": \n', ("line 1: not JSON",)),
    (
        "no gold_text",
        _edit(0, lambda r: r.pop("gold_text")),
        ("line 1 (record 'mine-0'): missing gold_text",),
    ),
    ("not an object", "[1, 2]\n", ("line 1: not a JSON object but list",)),
    ("url not a string", _edit(3, _set("url", 5)), ("line 4 (record 'mine-3'): url is int, not a string",)),
]


def write(path: Path, rows: list[Row]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def train(tmp: Path, data: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        cli, ["train", *NO_DEFAULTS, "--data", str(data), "-o", str(tmp / "m.npz"), *extra]
    )


@pytest.mark.parametrize(("spoil", "expected"), [pytest.param(s, e, id=name) for name, s, e in BAD])
def test_bad_labelled_data_is_an_input_error(
    tmp_path: Path, spoil: Callable[[list[Row]], list[Row]] | str | None, expected: tuple[str, ...]
) -> None:
    data = tmp_path / "mine.jsonl"
    if spoil is None:
        data.write_text("")
    elif isinstance(spoil, str):
        data.write_text(spoil)
    else:
        write(data, spoil(documents()))
    res = train(tmp_path, data)
    assert res.exit_code == 3, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    errors = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "hint: " in res.stderr, res.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    assert not (tmp_path / "m.npz").exists()


def test_valid_labelled_data_still_trains(tmp_path: Path) -> None:
    res = train(tmp_path, write(tmp_path / "mine.jsonl", documents()))
    assert res.exit_code == 0, res.output
    assert "category head: 4 categories" in res.stdout
    assert (tmp_path / "m.npz").is_file()


def test_a_cross_validation_fold_without_boilerplate_is_an_input_error(tmp_path: Path) -> None:
    rows = documents()
    for i, r in enumerate(rows):
        if i % 3:  # boilerplate only on alpha.example: holding it out leaves none to fit on
            r["boilerplate"] = []
    res = train(tmp_path, write(tmp_path / "mine.jsonl", rows), "--cv")
    assert res.exit_code == 3, res.output
    assert (
        "error: cross-validation fold 3/3 (mine: leave-site-out, 4 documents held out): the units to "
        in res.stderr
    )
    assert "no boilerplate unit" in res.stderr and "Traceback" not in res.output


def test_cross_validation_of_one_site_says_that_nothing_was_held_out(tmp_path: Path) -> None:
    rows = documents()
    for r in rows:  # every document on alpha.example: no site can be held out
        r["url"] = r["url"].replace("beta", "alpha").replace("gamma", "alpha")
    res = train(tmp_path, write(tmp_path / "mine.jsonl", rows), "--cv")
    assert res.exit_code == 0, res.output
    assert "every document of mine is on one site or domain (alpha.example)" in res.stderr
    assert "Nothing was held out" in res.stdout and "Label documents of two or more sites" in res.stdout


def test_items_are_found_in_html_with_entities_and_in_glued_or_mojibake_text(tmp_path: Path) -> None:
    gold = "Title\n\nBody."
    rows: list[Row] = [
        {  # a tag inside the item, entities: found in the page's text
            "id": "h",
            "format": "html",
            "raw": "<p>Don&rsquo;t miss: <a href='/x'>our <b>daily</b> newsletter</a></p><p>Body.</p>",
            "gold_text": gold,
            "boilerplate": [{"category": "newsletter_cta", "text": "Don’t miss: our daily newsletter"}],
        },
        {  # glued to the next paragraph ("More infoRuth")
            "id": "g",
            "format": None,
            "raw": "Title\nYou can unsubscribe at any time. More infoRuth Calloway won.",
            "gold_text": gold,
            "boilerplate": [
                {"category": "signup_notice", "text": "You can unsubscribe at any time. More info"}
            ],
        },
        {  # mojibake: the raw form given as raw_text
            "id": "m",
            "raw": "Title\nDONâ€™T MISS: the quiz\nBody.",
            "gold_text": gold,
            "boilerplate": [
                {
                    "category": "promo_block",
                    "text": "DON’T MISS: the quiz",
                    "raw_text": "DONâ€™T MISS: the quiz",
                }
            ],
        },
    ]
    assert [r["id"] for r in read_news_file(write(tmp_path / "ok.jsonl", rows))] == ["h", "g", "m"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"raw": 5}, "raw is int, not a string"),
        ({"url": 5}, "url is int, not a string"),
        ({"lang": 5}, "lang is int, not a string"),
        ({"id": [1]}, "id is list, not a string or an integer"),
        ({"format": "pdf"}, "format 'pdf' is not one of html, text"),
        ({"boilerplate": {"a": 1}}, "boilerplate is dict, not a list of {category, text}"),
        ({"boilerplate": ["R"]}, "boilerplate item 1 is not an object with a text string"),
        ({"boilerplate": [{"text": "R"}]}, 'boilerplate item 1 ("R") has unknown category None'),
        (
            {"boilerplate": [{"category": "footer", "text": "R", "raw_text": 3}]},
            'boilerplate item 1 ("R"): raw_text is not a string',
        ),
    ],
)
def test_training_and_evaluation_find_the_same_problem_in_a_row(
    tmp_path: Path, change: Row, problem: str
) -> None:
    """One check of newsboiler's schema serves ``train --data`` and ``eval``'s newsboiler set."""
    path = write(tmp_path / "mine.jsonl", [{"id": "x", "raw": "R", "gold_text": "G", **change}])
    with pytest.raises(InputError) as trained:
        read_news_file(path)
    with pytest.raises(InputError) as evaluated:
        load_news_file(path)
    assert f"{path} line 1" in str(trained.value) and f": {problem}" in str(trained.value)
    assert f"{path}, line 1: {problem}" in str(evaluated.value)


def test_a_cache_directory_that_cannot_be_made_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    res = train(
        tmp_path, write(tmp_path / "mine.jsonl", documents()), "--cache", str(tmp_path / "a-file" / "c")
    )
    assert res.exit_code == 4, res.output  # was a NotADirectoryError traceback after the preparation
    assert f"error: cannot write {tmp_path / 'a-file' / 'c'}" in res.stderr and "Traceback" not in res.output
    assert "prepared in" not in res.stderr and not (tmp_path / "m.npz").exists()


def test_a_damaged_cache_file_is_prepared_again(tmp_path: Path) -> None:
    data, cache = write(tmp_path / "mine.jsonl", documents()), tmp_path / "cache"
    assert train(tmp_path, data, "--cache", str(cache)).exit_code == 0
    first = (tmp_path / "m.npz").read_bytes()
    (cached,) = cache.iterdir()
    cached.write_text('{"text": "cut short')  # a run killed while writing it
    res = train(tmp_path, data, "--cache", str(cache))
    assert res.exit_code == 0, res.output  # was a JSONDecodeError traceback
    assert (tmp_path / "m.npz").read_bytes() == first and cached.read_text().count("\n") == 12


def test_a_negative_worker_count_is_a_usage_error(tmp_path: Path) -> None:
    res = train(tmp_path, write(tmp_path / "mine.jsonl", documents()), "-w", "-3")
    assert res.exit_code == 2 and "-w" in res.output
