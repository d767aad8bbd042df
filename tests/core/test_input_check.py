"""What ``process_batch`` makes of input an ETL job builds from plain rows: an empty list of rows,
and rows not converted to Arrow at all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pyarrow as pa
import pytest

from pipeline import Config, Pipeline
from pipeline.core.record import check_input, docs_from_batch
from pipeline.core.schema import WORK_SCHEMA
from stages import Extract

ROW = {"id": "a", "source": "feed", "raw": "Ferry returns\n\nSailings resume on Saturday, the operator said."}
Run = Callable[[pa.RecordBatch | pa.Table], pa.RecordBatch | pa.Table]


def runs() -> list[Run]:
    return [Pipeline.from_config(Config()).process_batch, Extract().process_batch]


@pytest.mark.parametrize("empty", [pa.Table.from_pylist([]), pa.RecordBatch.from_pylist([])])
def test_no_rows_and_no_columns_is_an_empty_work_batch_of_the_same_kind(
    empty: pa.Table | pa.RecordBatch,
) -> None:
    assert (empty.num_rows, empty.num_columns) == (0, 0)  # what an empty list of dicts becomes
    check_input(empty)
    assert docs_from_batch(empty) == []
    for run in runs():
        out = run(empty)
        assert type(out) is type(empty)
        assert (out.num_rows, out.schema) == (0, WORK_SCHEMA)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # rows, however few, without the columns: still refused
        (pa.table({"x": [1, 2]}).drop_columns(["x"]), "input has no 'id', 'source', 'raw' column"),
        # no row, but columns that say what the rows would be: checked as any batch is
        (pa.table({"id": pa.array([], pa.string())}), "input has no 'source', 'raw' column"),
        (pa.Table.from_pylist([], schema=pa.schema([("id", pa.int64())])), "input has no 'source', 'raw'"),
    ],
)
def test_a_table_with_rows_or_columns_is_still_checked(table: pa.Table, message: str) -> None:
    for run in runs():
        with pytest.raises(ValueError, match=re.escape(message)):
            run(table)


def rows() -> Iterator[dict[str, str]]:
    yield ROW


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ([ROW], "not list (pyarrow.Table.from_pylist(rows) converts rows given as dicts;"),
        ((ROW,), "not tuple (pyarrow.Table.from_pylist(rows) converts rows given as dicts;"),
        (rows(), "not generator (pyarrow.Table.from_pylist(list(rows)) converts rows given as dicts;"),
        (iter([ROW]), "not list_iterator (pyarrow.Table.from_pylist(list(rows)) converts"),
    ],
)
def test_rows_of_dicts_are_refused_saying_how_to_convert_them(given: object, hint: str) -> None:
    for run in runs():
        with pytest.raises(TypeError, match=re.escape(hint)) as raised:
            run(given)
        assert "pyarrow.Table.from_pandas(df, preserve_index=False)" in str(raised.value)  # and the frames


def test_the_conversion_the_hint_names_gives_a_batch_that_runs() -> None:
    out = Pipeline.from_config(Config()).process_batch(pa.Table.from_pylist(list(rows())))
    assert out.column("status").to_pylist() == ["ok"]
    assert out.column("id").to_pylist() == ["a"]


def test_anything_else_hears_of_the_frame_conversions_first_and_of_rows_too() -> None:
    with pytest.raises(TypeError) as raised:
        check_input({"id": ["a"], "source": ["feed"], "raw": ["x"]})
    message = str(raised.value)
    assert message.startswith("expected a pyarrow RecordBatch or Table, not dict (pyarrow.Table.from_pandas(")
    assert message.endswith("pyarrow.Table.from_pylist(rows) rows given as dicts)")
