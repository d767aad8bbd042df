"""The data model every layer builds on: records (:class:`~pipeline.core.record.Doc`), the Arrow
schemas, the :class:`~pipeline.core.stage.Stage` base classes, the typed config, the error
hierarchy, the accounting of records, records to safe Arrow work batches (the one batching
helper) and the small file-system helpers.

May import: the standard library, pyarrow and numpy, and other modules of ``pipeline.core``.
Nothing here imports ``stages`` or any other ``pipeline`` subpackage.
"""
