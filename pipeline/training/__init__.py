"""Training the boilerplate model (``cleanwire train``): labelled documents in, a model file out.

* :mod:`~pipeline.training.synth`: the seeded generator of synthetic labelled news documents (with
  its phrase pools, our own writing), part of the default training data.

Training runs the stages before ``boilerplate`` (extract, encoding) on every labelled document, so
the model learns from the very text the stage will see. scikit-learn fits it (the ``train`` extra);
the model it writes runs on numpy alone (:mod:`stages.boilerplate.model`).

May import: ``pipeline.core``, ``pipeline.io``, ``stages``, ``pipeline.execution``, ``pipeline.api``
and ``pipeline.evaluation`` (its metrics); not the CLI, which calls it.
"""
