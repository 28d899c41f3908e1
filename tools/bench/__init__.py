"""Benchmarks: they print figures (medians of several runs), they do not pass or fail."""
