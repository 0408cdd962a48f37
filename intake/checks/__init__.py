"""The formal review rules: one rule per module, each returning findings, never raising."""
