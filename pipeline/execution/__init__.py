"""Running stages over a stream: the local :class:`~pipeline.execution.runner.Runner` (shards in,
batches through an engine, sink out, records accounted), the engines that run stage chains in
this process or in a supervised worker pool, the forkserver preload, and the Ray Data engine.

May import: ``pipeline.core``, ``pipeline.io`` and ``stages`` (to build the configured chain).
Ray is an optional extra and is imported only when the Ray engine is used.
"""
