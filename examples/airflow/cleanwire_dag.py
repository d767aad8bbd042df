"""cleanwire as an Airflow 3 DAG: one task per configured stage over the day's partition, then
``publish``, which writes what ``cleanwire run`` writes (part files, rejects, dropped, manifest).

With the default config the chain is extract → encoding → boilerplate → normalize → language →
filter → near_dedup_sign → near_dedup → publish (the stage order is the config's ``stages``; encoding repair comes
before boilerplate so that rules match repaired text). Each task reads and writes Parquet under
``{CLEANWIRE_STORE}/{step}/dt={YYYY-MM-DD}``, replaces only its own partition (so retries and
re-runs are idempotent), logs its counts and reject reasons, and passes a small manifest (paths
and counts, never document text) to the next task through XCom.

Settings (environment of the scheduler and workers):
  CLEANWIRE_INPUTS   input files, directories or globs, comma-separated; ``{ds}`` is replaced by
                     the logical date (default: the repository's demo fixtures)
  CLEANWIRE_STORE    local path or filesystem URI of the partitions (default: /tmp/cleanwire-airflow)
  CLEANWIRE_CONFIG   a cleanwire TOML config file (default: built-in defaults)
  CLEANWIRE_DEDUP_INDEX  a local directory where near_dedup keeps the records kept on earlier days,
                     so that today's copies of them are dropped (default: none, dedup per day).
                     The DAG runs one day at a time (``max_active_runs=1``), as a shared index needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import dag, task

from pipeline import airflow as cw

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "dump"
INPUTS = os.environ.get("CLEANWIRE_INPUTS", str(DEMO))
STORE = os.environ.get("CLEANWIRE_STORE", "/tmp/cleanwire-airflow")
CONFIG = os.environ.get("CLEANWIRE_CONFIG") or None
DEDUP_INDEX = os.environ.get("CLEANWIRE_DEDUP_INDEX") or None


@task(retries=2)
def stage(name: str, upstream: dict[str, Any] | None = None) -> dict[str, Any]:
    """One cleanwire stage over today's partition (the first one reads the raw inputs)."""
    day = cw.logical_day()
    inputs = [p.strip().format(ds=day) for p in INPUTS.split(",") if p.strip()]
    return cw.run_stage(
        name,
        store=STORE,
        day=day,
        upstream=upstream,
        inputs=inputs if upstream is None else (),
        config_file=CONFIG,
        dedup_index=DEDUP_INDEX,
    )


@task(retries=2)
def publish(upstream: dict[str, Any]) -> dict[str, Any]:
    """Split the last stage's partition into output, rejects, dropped and the manifest."""
    return cw.publish(store=STORE, day=cw.logical_day(), upstream=upstream, config_file=CONFIG)


@dag(
    dag_id="cleanwire",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["cleanwire"],
    doc_md=__doc__,
)
def cleanwire() -> None:
    manifest: Any = None  # an XComArg: resolved to the upstream task's manifest at run time
    for name in cw.stage_names(CONFIG):
        manifest = stage.override(task_id=name)(name, manifest)
    publish(manifest)


cleanwire()
