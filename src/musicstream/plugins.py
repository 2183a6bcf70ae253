"""Backends chosen by name: a registry maps each name to ``"module:Class"``, imported on use.

The bottom floor of the package (it imports nothing of it but ``errors``), so the engine and
store registries can use it without importing each other or settings. Importing lazily keeps
heavy clients (pyspark, boto3) out of every run that does not choose them.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Mapping
from typing import Any, TypeVar

from musicstream.errors import UserError

Name = TypeVar("Name", bound=str)


def load_class(kind: str, registry: Mapping[Name, str], name: Name, extra: str) -> type[Any]:
    """The class registered as ``name``; a UserError that says what to do when it cannot be.

    ``kind`` names the registry in messages ("engine", "store"); ``extra`` is the optional
    dependency group (``pip install 'musicstream[extra]'``) that brings the backend's modules.
    """
    try:
        target = registry[name]
    except KeyError:
        raise UserError(f"unknown {kind} {name!r}; choose one of {', '.join(registry)}") from None
    try:
        cls: type[Any] = pkgutil.resolve_name(target)
    except ImportError as exc:
        raise UserError(
            f"{kind} {name!r} needs an extra: "
            f"pip install 'musicstream[{extra}]' ({exc.name} is missing)"
        ) from None
    return cls
