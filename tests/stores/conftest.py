"""The stores under test: an SQLite file, and DynamoDB tables on the session's moto server.

The local AWS (moto server, dummy credentials, settings with a fresh table prefix) is the
session's one of tests/aws_local.py, so there is one way to build it and one server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aws_local import HAVE_AWS  # without moto and s3fs only SQLite is tested here
from musicstream.settings import Settings, load_settings
from musicstream.stores import Store, create_store

DYNAMODB = pytest.param(
    "dynamodb",
    marks=[pytest.mark.aws, pytest.mark.skipif(not HAVE_AWS, reason="needs moto and s3fs")],
)


@pytest.fixture(autouse=True)
def _dummy_credentials(aws_env: None) -> None:
    """``aws_env`` for every test in this folder."""


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return load_settings(
        lake=str(tmp_path), store="sqlite", store_path=str(tmp_path / "kv.sqlite"), progress=False
    )


@pytest.fixture
def dynamodb_settings(aws_settings: Callable[..., Settings]) -> Settings:
    return aws_settings()


@pytest.fixture(params=["sqlite", DYNAMODB])
def store_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings of a fresh, empty store of each kind (the contract suite runs once per kind)."""
    settings: Settings = request.getfixturevalue(f"{request.param}_settings")
    return settings


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    """The store the settings name, initialised, as the load stage opens it."""
    opened = create_store(store_settings)
    opened.init()
    yield opened
    opened.close()
