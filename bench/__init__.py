"""Benchmarks: each prints JSON lines with a ratio against a raw primitive measured in the same run."""
