"""Adapters to other systems' ways of running work: Airflow tasks over Parquet partitions
(:mod:`pipeline.integrations.airflow`, also importable as ``pipeline.airflow``), over the
store's day partitions they read and write (:mod:`pipeline.integrations.partitions`).

May import every layer below the CLI. Airflow itself is never imported here: the adapters are
plain functions an Airflow DAG calls.
"""
