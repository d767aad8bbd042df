"""The input's own date (``--date-field``, ``reader.date_field``): a value of the date field that
parses as a date is the record's ``date`` (and its ``day=`` partition), ahead of the dates the
extract and boilerplate stages find; an unparsable or implausible one is ignored and flagged, the
record kept. ``--date-field ''`` keeps a directory written before the setting existed resumable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import Config, ReaderConfig
from pipeline.core.errors import OutputError
from pipeline.io.formats.fielddate import BAD_DATE_FLAG, field_date
from pipeline.io.layout import OutputLayout
from pipeline.io.readers import Source
from pipeline.io.sinks.run_state import RunState

ARTICLE = (
    "The council approved the new tram line on Tuesday after a long debate about its cost. "
    "Work on the first section is due to start in the spring and take two years."
)
PAGE = (
    "<!DOCTYPE html><html><head><title>Tram line approved</title>"
    '<meta property="article:published_time" content="2021-03-04T09:30:00+00:00"></head><body>'
    f"<article><h1>Tram line approved</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article></body></html>"
)
#: A text record whose byline the boilerplate stage reads as its date (2023-08-10T11:05).
BYLINE_TEXT = f"Published: 11:05, Thu, Aug 10, 2023\n\n{ARTICLE}"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["run", *args, "--workers", "1", "--no-dedup"])


def output_dates(out: Path) -> dict[str, str | None]:
    table = pq.read_table(out, columns=["id", "date"], partitioning=None)
    return dict(zip(table.column("id").to_pylist(), table.column("date").to_pylist(), strict=True))


def days(out: Path) -> set[str]:
    return {p.parent.name for p in out.rglob("part-*.parquet")}


def read_all(paths: list[Path], config: ReaderConfig | None = None) -> list[Any]:
    source = Source(paths, config)
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-08-10", "2023-08-10"),
        ("20230810", "2023-08-10"),
        ("2023-08-10T07:15:42Z", "2023-08-10T07:15"),
        ("2023-08-10T07:15:00.123+02:00", "2023-08-10T07:15"),  # the value's own local time
        ("2023-08-10 23:30-05:00", "2023-08-10T23:30"),  # not converted to UTC (2023-08-11)
        ("Thu, 10 Aug 2023 07:15:00 GMT", "2023-08-10T07:15"),
        ("Thu, 10 Aug 2023 07:15:00 +0200", "2023-08-10T07:15"),
        (1691651700, "2023-08-10T07:15"),  # epoch seconds, UTC
        (1691651700123, "2023-08-10T07:15"),  # epoch milliseconds
        ("1691651700", "2023-08-10T07:15"),  # as CSV holds it
        (1691651700.9, "2023-08-10T07:15"),
        (-2208988800, "1900-01-01T00:00"),
        ("1899-12-31", None),
        ("3000-01-01", None),
        ("yesterday", None),
        ("10/08/2023", None),  # ambiguous day/month order: not read
        (True, None),
        (["2023-08-10"], None),
        (float("nan"), None),
        (1e300, None),
    ],
)
def test_field_date_reads_the_documented_shapes(value: Any, expected: str | None) -> None:
    assert field_date(value) == expected


def test_field_date_refuses_a_day_after_today_in_utc_plus_14() -> None:
    latest = (datetime.now(UTC) + timedelta(hours=14)).date()
    assert field_date(latest.isoformat()) == latest.isoformat()
    assert field_date((latest + timedelta(days=1)).isoformat()) is None


def test_jsonl_dates_of_several_shapes_fill_the_date_column_and_day_partitions(tmp_path: Path) -> None:
    rows = [
        {"id": "iso", "text": ARTICLE, "date": "2023-08-10"},
        {"id": "zoned", "text": ARTICLE, "date": "2023-08-11T07:15:00+02:00"},
        {"id": "rfc", "text": ARTICLE, "date": "Sat, 12 Aug 2023 06:00:00 GMT"},
        {"id": "epoch", "text": ARTICLE, "date": 1691996400},  # 2023-08-14T07:00Z
        {"id": "millis", "text": ARTICLE, "date": 1692082800000},  # 2023-08-15T07:00Z
        {"id": "none", "text": ARTICLE},
        {"id": "null", "text": ARTICLE, "date": None},
    ]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    res = invoke(str(tmp_path / "d.jsonl"), "-o", str(out), "--partition-by", "date", "--json")
    assert res.exit_code == 0, res.output
    assert output_dates(out) == {
        "iso": "2023-08-10",
        "zoned": "2023-08-11T07:15",
        "rfc": "2023-08-12T06:00",
        "epoch": "2023-08-14T07:00",
        "millis": "2023-08-15T07:00",
        "none": None,
        "null": None,
    }
    assert days(out) == {f"day=2023-08-{d}" for d in (10, 11, 12, 14, 15)} | {"day=undated"}
    assert BAD_DATE_FLAG not in json.loads(res.output)["counts"].get("flags", {})  # null/absent: no date


def test_csv_dates(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        f'id,date,text\nc1,2024-05-01,"{ARTICLE}"\nc2,1714600800,"{ARTICLE}"\nc3,,"{ARTICLE}"\n'
    )
    out = tmp_path / "out"
    res = invoke(str(tmp_path / "d.csv"), "-o", str(out), "--partition-by", "lang,date")
    assert res.exit_code == 0, res.output
    assert output_dates(out) == {"c1": "2024-05-01", "c2": "2024-05-01T22:00", "c3": None}
    assert {p.parent.relative_to(out).as_posix() for p in out.rglob("part-*.parquet")} == {
        "lang=en/day=2024-05-01",
        "lang=en/day=undated",
    }


def test_parquet_timestamp_and_date_columns(tmp_path: Path) -> None:
    stamps = [datetime(2022, 1, 2, 3, 4, 5), datetime(2022, 1, 3, 23, 0), None]
    pq.write_table(
        pa.table(
            {
                "id": ["p1", "p2", "p3"],
                "text": [ARTICLE] * 3,
                "date": pa.array(stamps, pa.timestamp("ms")),
            }
        ),
        tmp_path / "naive.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "id": ["z1", "d1"],
                "text": [ARTICLE] * 2,
                # 2022-01-04T22:30Z is 2022-01-05T07:30 in Tokyo: the zone's local time
                "published": pa.array(
                    [datetime(2022, 1, 4, 22, 30, tzinfo=UTC)] * 2, pa.timestamp("us", "Asia/Tokyo")
                ),
            }
        ),
        tmp_path / "zoned.parquet",
    )
    out = tmp_path / "out"
    res = invoke(str(tmp_path / "naive.parquet"), "-o", str(out), "--partition-by", "date")
    assert res.exit_code == 0, res.output
    assert output_dates(out) == {"p1": "2022-01-02T03:04", "p2": "2022-01-03T23:00", "p3": None}
    assert days(out) == {"day=2022-01-02", "day=2022-01-03", "day=undated"}
    docs = read_all([tmp_path / "zoned.parquet"], ReaderConfig(date_field="published"))
    assert [d.date for d in docs] == ["2022-01-05T07:30"] * 2
    pq.write_table(
        pa.table(
            {"id": ["d"], "text": [ARTICLE], "date": pa.array([datetime(2020, 2, 29).date()], pa.date32())}
        ),
        tmp_path / "day.parquet",
    )
    assert [d.date for d in read_all([tmp_path / "day.parquet"])] == ["2020-02-29"]


def test_a_parquet_timestamp_python_cannot_hold_is_ignored_not_a_bad_row(tmp_path: Path) -> None:
    far = pa.array([253402300800 * 1000, 1_600_000_000_000], pa.timestamp("ms"))  # year 10000, 2020
    pq.write_table(
        pa.table({"id": ["far", "ok"], "text": [ARTICLE] * 2, "date": far}), tmp_path / "d.parquet"
    )
    docs = read_all([tmp_path / "d.parquet"])
    assert [(d.id, d.ok, d.date, d.flags) for d in docs] == [
        ("far", True, None, [BAD_DATE_FLAG]),
        ("ok", True, "2020-09-13T12:26", []),
    ]


def test_an_invalid_date_keeps_the_record_with_the_extracted_date_and_is_counted(tmp_path: Path) -> None:
    rows = [
        {"id": "bad", "text": BYLINE_TEXT, "date": "not a date"},
        {"id": "future", "text": ARTICLE, "date": "2999-01-01"},
        {"id": "old", "text": ARTICLE, "date": "1066-10-14"},
        {"id": "wins", "text": BYLINE_TEXT, "date": "2023-08-09"},
    ]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    res = invoke(str(tmp_path / "d.jsonl"), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    counts = json.loads(res.output)["counts"]
    assert counts["n_kept"] == 4 and counts["flags"][BAD_DATE_FLAG] == 3
    assert output_dates(out) == {
        "bad": "2023-08-10T11:05",  # the byline's: the field's value was ignored
        "future": None,
        "old": None,
        "wins": "2023-08-09",  # the field's, not the byline's
    }


def test_the_date_field_wins_over_an_html_pages_meta_date(tmp_path: Path) -> None:
    rows = [
        {"id": "field", "html": PAGE, "date": "2021-05-06"},
        {"id": "meta", "html": PAGE},
    ]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    res = invoke(str(tmp_path / "d.jsonl"), "-o", str(out))
    assert res.exit_code == 0, res.output
    assert output_dates(out) == {"field": "2021-05-06", "meta": "2021-03-04"}


def test_date_field_option_names_another_field_and_empty_reads_none(tmp_path: Path) -> None:
    rows = [{"id": "a", "text": ARTICLE, "published": "2020-07-08T10:20:30Z", "date": "2019-01-01"}]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    named = invoke(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "o1"), "--date-field", "published")
    assert named.exit_code == 0, named.output
    assert output_dates(tmp_path / "o1") == {"a": "2020-07-08T10:20"}
    default = invoke(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "o2"))
    assert default.exit_code == 0, default.output
    assert output_dates(tmp_path / "o2") == {"a": "2019-01-01"}
    off = invoke(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "o3"), "--date-field", "")
    assert off.exit_code == 0, off.output
    assert output_dates(tmp_path / "o3") == {"a": None}
    toml = tmp_path / "c.toml"
    toml.write_text('[reader]\ndate_field = "published"\n')
    assert Config.from_toml(toml).reader.date_field == "published"


def test_the_setting_enters_the_hash_except_at_its_before_value(tmp_path: Path) -> None:
    """``reader.date_field = ""`` (no date from inputs, what cleanwire did before the setting)
    hashes as a config without the setting, so a directory written then resumes with it; the
    default hashes otherwise (it changes what is written) and a resume names the setting."""
    before = Config().with_overrides({"reader.date_field": ""})
    assert "date_field" not in before.content_dict()["reader"]
    assert Config().content_dict()["reader"]["date_field"] == "date"
    assert len({before.hash, Config().hash, Config().with_overrides({"reader.date_field": "x"}).hash}) == 3
    layout = OutputLayout(tmp_path)
    layout.state_dir.mkdir(parents=True)
    layout.manifest.write_text(json.dumps({"config_hash": before.hash, "settings": before.content_dict()}))
    state = RunState(layout)
    state.check_config(before.hash, before.content_dict())
    with pytest.raises(OutputError) as err:
        state.check_config(Config().hash, Config().content_dict())
    assert 'reader.date_field: (unset) → "date"' in str(err.value)
    assert 'reader.date_field = "" reproduces runs written before it existed' in (err.value.hint or "")


@pytest.mark.parametrize(
    ("value", "want"), [(20230810, "2023-08-10"), (19990101, "1999-01-01"), (1691651700, "2023-08-10T07:15")]
)
def test_an_integer_that_spells_a_date_is_that_date_not_an_epoch(value: int, want: str) -> None:
    """``20230810`` as epoch seconds is 1970-08-23: an export's ``YYYYMMDD`` is the date it spells;
    an integer in that range that spells none (``20231340``) is no date."""
    assert field_date(value) == want
    assert field_date(20231340) is None  # spells no date


@pytest.mark.parametrize("value", [0, 2023, "2023", "202308", 99991231, 1.5, -5])
def test_a_small_number_or_a_year_is_no_date_not_an_epoch(value: object) -> None:
    """``0`` (a placeholder), a year or a month were epoch seconds: 1970-01-01 partitions."""
    assert field_date(value) is None
