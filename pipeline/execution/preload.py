"""What the worker pool's forkserver imports before it forks any worker (see
:class:`pipeline.execution.pool.ProcessEngine`).

Importing this module imports the stages and their libraries and runs the warm-up documents once
through the default stages. What those libraries build lazily on first use (trafilatura's first
extraction, the language profiles, compiled patterns) is then in the forkserver's memory, and
every worker, the first and each replacement, starts with it, shared copy-on-write, instead of
building it again. A run with other settings still warms its own stages up in each worker; this
only makes that cheap.

It first runs pyarrow's pandas probe with pandas hidden
(:func:`~pipeline.core.pandas_probe.skip_pandas_probe`): workers never hand pyarrow a pandas object,
and the import would cost the forkserver ~0.25 s before its first worker.

Not warmed on purpose: dateparser's month names of every locale (~0.2-0.4 s), which the date
search loads only for a page with a year-less dateline. A text dump never needs them, and every
run would wait for them here.
"""

from __future__ import annotations

from pipeline.core.pandas_probe import skip_pandas_probe

skip_pandas_probe()  # before anything converts to Arrow: the forkserver is cleanwire's own process

import ftfy.badness  # noqa: E402,F401 - the encoding stage imports ftfy on first use: workers fork with it

from pipeline.core.config import Config  # noqa: E402
from pipeline.core.stage import split_parallel  # noqa: E402
from pipeline.execution.worker import warm_up  # noqa: E402
from stages.registry import build_stages  # noqa: E402

warm_up(split_parallel(build_stages(Config()))[0])  # what the workers run
