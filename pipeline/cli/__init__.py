"""The ``cleanwire`` command line, one module per command (``run``, ``explain``, ``rules``,
``stats``, ``report``, ``eval``, ``learn-sites``), plus the shared option handling.

The top layer: may import everything else in ``pipeline`` and ``stages``; nothing imports it.
"""
