"""Benchmark harness: cleanwire against the obvious loop, side by side, on the same corpus.

``python -m bench`` builds a corpus (HTML pages from ``../shared/eval`` or generated text records),
runs the naive loop and cleanwire on it in separate processes, interleaved and repeated, and prints
docs/s, MB/s, per-stage time shares, the peak RSS of each run's whole process tree and the ratios
the performance targets are stated in. Ratios, not absolute times, are the figures: the machine is
shared and noisy, so each figure is a median over repeats.
"""
