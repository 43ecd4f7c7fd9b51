"""Benchmarks of Gridwatch, each measured beside the physical ceiling of the layer under it."""
