"""The embedded engine: DuckDB in process."""
