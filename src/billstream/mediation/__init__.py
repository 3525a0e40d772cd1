"""Mediation: CDR formats, ingestion, dedupe, normalisation, routing, rejects (SPEC C5)."""
