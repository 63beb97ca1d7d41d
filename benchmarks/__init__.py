"""Performance benchmarks (`make bench`, `python -m benchmarks`): see docs/performance_benchmarks.md."""
