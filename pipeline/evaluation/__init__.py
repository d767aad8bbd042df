"""Evaluation of the pipeline on labelled sets (``cleanwire eval``).

* :mod:`~pipeline.evaluation.aeb`: the Article Extraction Benchmark metric (shingle P/R/F1).
* :mod:`~pipeline.evaluation.wcxb`: WCXB's bag-of-words metric and snippet checks.
* :mod:`~pipeline.evaluation.newsboiler`: boilerplate removal recall, preservation, exact match.
* :mod:`~pipeline.evaluation.langid`: language-identification accuracy and confusions.
* :mod:`~pipeline.evaluation.data`: locating and loading the sets; :mod:`~.predict`: running the
  pipeline; :mod:`~.suite`: one function per set; :mod:`~.render` / :mod:`~.report_html`: output.

May import: ``pipeline.core``, ``pipeline.io``, ``stages``, ``pipeline.execution`` and
``pipeline.api`` (it runs the pipeline as users do); not the CLI, which calls it.
"""
