"""Peer baselines written for this benchmark from the public descriptions of the seed projects.

Each is a standalone script: ``python -m bench.peers.<name> LANDING STORE`` reads the landing
CSVs, computes the SPEC §3 KPI tables and writes them into the SQLite file ``STORE`` (one
table per KPI table, the columns of ``musicstream.datasets.KPI_COLUMNS``).
"""
