"""framestamp.benchmarks."""
