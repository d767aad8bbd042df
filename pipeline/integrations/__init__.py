"""Adapters to other systems' ways of running work: Airflow tasks over Parquet partitions
(:mod:`pipeline.integrations.airflow`, also importable as ``pipeline.airflow``).

May import every layer below the CLI. Airflow itself is never imported here: the adapters are
plain functions an Airflow DAG calls.
"""
