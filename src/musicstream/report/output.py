"""Writing a query result: a table on the terminal, CSV (file or stdout) or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from musicstream.report.lakeio import ReportError


def write_result(result: pa.Table, fmt: str, out: Path | None) -> None:
    """Write the result as ``table``, ``csv`` or ``parquet``; to ``out``, else to stdout."""
    if fmt == "parquet":
        if out is None:
            raise ReportError("--format parquet needs --out PATH")
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(result, out)
    elif fmt == "csv":
        if out is None:
            write_csv(result, sys.stdout)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as f:
            write_csv(result, f)
    elif fmt == "table":
        print_table(result, out)
    else:
        raise ReportError(f"unknown output format {fmt!r}: use table, csv or parquet")


def write_csv(result: pa.Table, stream: TextIO) -> None:
    """CSV with a header row (pyarrow's writer): NULL as an empty field, text quoted, floats
    in their shortest exact form. Written as text, so stdout works however it is captured."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(result, sink)
    stream.write(sink.getvalue().to_pybytes().decode("utf-8"))


def print_table(result: pa.Table, out: Path | None = None) -> None:
    """A readable table (thousands separators, 4 decimals) on stdout or in a text file."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*result.column_names, show_lines=False)
    for i, dtype in enumerate(result.schema.types):
        if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
            table.columns[i].justify = "right"
    for row in result.to_pylist():
        table.add_row(*(_cell(v) for v in row.values()))
    if out is None:
        console = Console()
        # piped output has no width to fit: print the table whole rather than truncated
        (console if console.is_terminal else Console(width=10_000)).print(table)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        Console(file=f, width=10_000).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)
