"""Engines and stores are looked up by name: the registries, the settings and the messages."""

from __future__ import annotations

from typing import get_args

import pytest

from musicstream.engines import ENGINES
from musicstream.errors import UserError
from musicstream.plugins import load_class
from musicstream.settings import EngineName, StoreName
from musicstream.stores import STORES


def test_registries_hold_exactly_the_names_settings_accept() -> None:
    assert tuple(ENGINES) == get_args(EngineName)
    assert tuple(STORES) == get_args(StoreName)


def test_a_registered_class_is_imported_on_use() -> None:
    from musicstream.stores.sqlite import SQLiteStore

    assert load_class("store", STORES, "sqlite", extra="aws") is SQLiteStore


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(UserError, match=r"^unknown engine 'nope'; choose one of duckdb, spark$"):
        load_class("engine", ENGINES, "nope", extra="nope")


def test_missing_module_names_the_extra() -> None:
    registry = {"ghost": "musicstream_no_such_module.backend:Ghost"}
    with pytest.raises(UserError) as caught:
        load_class("store", registry, "ghost", extra="aws")
    assert str(caught.value) == (
        "store 'ghost' needs an extra: pip install 'musicstream[aws]' "
        "(musicstream_no_such_module is missing)"
    )
