"""Formal review of lab review dossiers: from scans to a mismatch report."""
