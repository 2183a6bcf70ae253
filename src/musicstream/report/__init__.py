"""Analysis over the lake: Athena catalog, analyst SQL library, HTML/PNG report.

- ``catalog``  — Athena ``CREATE EXTERNAL TABLE`` DDL with partition projection;
- ``queries``  — the ``sql/*.sql`` library (Athena dialect), run locally on DuckDB;
- ``data``     — ``load_data()``: the query results behind the report, for HTML and PNGs;
- ``build``    — ``write_report()``: the self-contained HTML report, optional PNGs;
- ``commands`` — ``register(app)`` adds ``catalog ddl``, ``query`` and ``report`` to the CLI.

Importing this package imports nothing heavy; each module loads what it needs.
"""
