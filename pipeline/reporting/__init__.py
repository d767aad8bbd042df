"""What a run or a document looks like afterwards: the run summary, ``stats`` over an output
directory, the HTML report and its plots, and ``explain`` (what each stage did to one document).

May import: ``pipeline.core``, ``pipeline.io``, ``stages`` and ``pipeline.api``. Not the CLI.
"""
