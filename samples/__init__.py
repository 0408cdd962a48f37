"""Generated sample dossiers: the ground truth for tests and benchmarks."""
