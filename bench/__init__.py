"""Benchmarks: measured figures for docs/benchmarks.md, each against a baseline run alongside."""
