"""Tests against the session's local AWS (tests/aws_local.py): skipped without moto and
s3fs, and every test here runs with the dummy credentials."""

from __future__ import annotations

import pytest

pytest.importorskip("moto")
pytest.importorskip("s3fs")


@pytest.fixture(autouse=True)
def _dummy_credentials(aws_env: None) -> None:
    """``aws_env`` for every test in this folder."""
