"""The Airflow adapters under their documented import path, ``from pipeline import airflow as cw``.

They live in :mod:`pipeline.integrations.airflow`.
"""

from pipeline.integrations.airflow import *  # noqa: F403 - this module is that module's public names
from pipeline.integrations.airflow import __all__ as __all__
