"""Backends: the per-record Python reference (traced explanations) and the SQL batch backends."""
