"""Running stages over a stream: the local :class:`~pipeline.execution.runner.Runner` (shards in,
batches through an engine, sink out, records accounted); the engines (:mod:`.engines`: the
protocol, the in-process engine, the choice from the config) that run a stage chain over each
batch (:mod:`.chain`) in this process or in the supervised worker pool (:mod:`.pool`, with its
workers in :mod:`.worker`, their :mod:`.heartbeat`, the book-keeping of :mod:`.jobs` and the
memory limit of :mod:`.memory`); the forkserver and its preload; and the Ray Data engine (:mod:`.ray`, with ``near_dedup``'s plan
as Ray Data operations in :mod:`.ray_dedup`).

May import: ``pipeline.core``, ``pipeline.io`` and ``stages`` (to build the configured chain).
Ray is an optional extra and is imported only when the Ray engine is used.
"""
