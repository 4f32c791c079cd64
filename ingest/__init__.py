"""Ingestion: load -> chunk -> embed -> store. `ingest.run(settings)` is the entry point."""

from .pipeline import IngestReport, Skipped, run

__all__ = ["run", "IngestReport", "Skipped"]
