"""Reporting stage: history database, trend plots, HTML reports, annotated video."""
