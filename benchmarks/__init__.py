"""`make bench`: measured figures, appended to BENCHMARKS.md (see benchmarks/run.py)."""
