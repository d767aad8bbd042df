"""Sinks: where a run's records go. :class:`~pipeline.io.sinks.base.Sink` is what the runner
talks to; :class:`ParquetSink` writes a resumable output directory, :class:`JsonlSink` the kept
records as JSON lines on stdout. Both keep the directory's lifecycle in
:class:`~pipeline.io.sinks.directory.OutputDirectory` (one run at a time:
:mod:`~pipeline.io.sinks.lock`); the resume state (markers, what a rerun
skips) is :class:`~pipeline.io.sinks.run_state.RunState`, which only the Parquet sink resumes with.
"""

from pipeline.io.sinks.base import FinishedShard, KeptOutput, ShardOutput, Sink
from pipeline.io.sinks.jsonl import JsonlSink
from pipeline.io.sinks.parquet import ParquetSink

__all__ = ["FinishedShard", "JsonlSink", "KeptOutput", "ParquetSink", "ShardOutput", "Sink"]
