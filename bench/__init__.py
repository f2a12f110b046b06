"""Benchmarks of the engine against the tools users would pick instead (not part of the test suite)."""
