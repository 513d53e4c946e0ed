"""Benchmarks showing the daemon is never the bottleneck (see docs/BENCHMARKS.md).

``python -m benchmarks`` runs them all; ``python -m benchmarks.NAME`` runs one. Results go to
``benchmarks/results/NAME.json`` (not committed).
"""

__all__: list[str] = []
