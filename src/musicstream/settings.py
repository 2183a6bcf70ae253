"""Typed settings: CLI flag > env (``MUSICSTREAM_…``) > TOML config file > default."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from musicstream.errors import UserError


class TopN(BaseModel):
    """How many rows each ranking keeps (SPEC §3)."""

    songs: int = Field(default=3, ge=1)
    genres: int = Field(default=5, ge=1)
    artists: int = Field(default=10, ge=1)


class Settings(BaseSettings):
    """Everything a run needs to know; switching place is configuration, not code."""

    model_config = SettingsConfigDict(
        env_prefix="MUSICSTREAM_", env_nested_delimiter="__", extra="forbid"
    )

    lake: str = "lake"
    engine: str = "duckdb"
    store: str = "sqlite"
    store_path: str | None = None  # SQLite file; default <lake>/_state/kpis.sqlite
    store_prefix: str = "musicstream_"  # table-name prefix for shared stores (DynamoDB)
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = None
    spark_master: str | None = None  # Spark engine; default: the launcher's, else local[*]
    top_n: TopN = Field(default_factory=TopN)
    lock_timeout_s: float = Field(default=0.0, ge=0)
    # A lock its holder stopped renewing (host died, process frozen) lapses after this long.
    lock_lease_s: float = Field(default=120.0, ge=1)
    future_tolerance_s: int = Field(default=3600, ge=0)
    # Files in flight (SPEC §2): a landing file is taken once unchanged for this long.
    settle_s: float = Field(default=5.0, ge=0)
    # The encoding of the input files (UTF-8 and UTF-16 with a BOM are always recognised).
    input_encoding: str = "utf-8"
    # Quality gate: a batch where any dataset quarantines more than this share of its rows is
    # rejected (rolled back, files archived, run fails). 1.0 never rejects.
    max_bad_ratio: float = Field(default=1.0, ge=0, le=1)
    webhook_url: str | None = None
    sns_topic_arn: str | None = None
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    log_format: Literal["text", "json"] = "text"
    progress: bool = True

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        from musicstream.engines import ENGINES

        if v not in ENGINES:
            raise ValueError(f"unknown engine {v!r}; choose one of {', '.join(ENGINES)}")
        return v

    @field_validator("store")
    @classmethod
    def _known_store(cls, v: str) -> str:
        from musicstream.stores import STORES

        if v not in STORES:
            raise ValueError(f"unknown store {v!r}; choose one of {', '.join(STORES)}")
        return v

    @field_validator("input_encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            info = codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r} (e.g. utf-8, cp1252, latin-1)") from None
        if info.name.startswith(("utf-16", "utf-32")):
            raise ValueError(f"{v!r}: UTF-16/32 files are read from their BOM; name an 8-bit one")
        return v

    @field_validator("lake")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/") or v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """Values from the TOML file named by ``MUSICSTREAM_CONFIG`` (or ``musicstream.toml``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ is used instead

    def __call__(self) -> dict[str, Any]:
        return _read_config(_config_path())


_CONFIG_FILE: Path | None = None


def _config_path() -> Path | None:
    import os

    if _CONFIG_FILE is not None:
        return _CONFIG_FILE
    named = os.environ.get("MUSICSTREAM_CONFIG")
    if named:
        return Path(named)
    default = Path("musicstream.toml")
    return default if default.exists() else None


def _read_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read config file {path}: {exc}") from None
    return dict(data.get("musicstream", data))


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; ``overrides`` are CLI flags (None means 'not given')."""
    global _CONFIG_FILE
    _CONFIG_FILE = config
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UserError(f"invalid setting {where}: {message}") from None
    finally:
        _CONFIG_FILE = None
