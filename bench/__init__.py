"""The musicstream benchmark harness (not part of the installed package).

``python -m bench`` generates data at a scale, runs every measured command as a child
process (the floor, musicstream on DuckDB and Spark, the incremental batch, the peer
baselines), compares their KPIs with musicstream's, and writes BENCHMARKS.md and a chart.
"""
