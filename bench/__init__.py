"""Ketnap's benchmarks: `python -m bench` (or `make bench`; `--quick` for a 2-minute run).

Every figure is the median of several runs, measured on generated data; the harness
writes BENCHMARKS.md. Timings are never asserted in the test suite: they live here.
"""
