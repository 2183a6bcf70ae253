"""Typed settings: CLI flag > env (``MUSICSTREAM_…``) > TOML config file > default.

Imports nothing of the package but ``errors``: engines and stores import settings, never the
reverse. The names an engine or store may have are spelled here; their registries
(``ENGINES``, ``STORES``) are tested to hold exactly these names.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from musicstream.errors import UserError

EngineName = Literal["duckdb", "spark"]
StoreName = Literal["sqlite", "dynamodb"]
HealthCheck = Literal["freshness", "volume", "quarantine_rate", "schema_change"]


def _one_of(kind: str, names: tuple[str, ...]) -> BeforeValidator:
    """Reject an unknown name in the words users know: "unknown engine 'x'; choose one of …"
    (pydantic's own Literal message would read "Input should be 'duckdb' or 'spark'")."""

    def check(value: object) -> object:
        if value not in names:
            raise ValueError(f"unknown {kind} {value!r}; choose one of {', '.join(names)}")
        return value

    return BeforeValidator(check)


# A memory size as DuckDB reads one: KB/MB/GB/TB (and k/m/g/t) in powers of 1000, KiB/MiB/…
# in powers of 1024, or a share of this machine's memory ('50%').
_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?)b?|(%))\s*")
_POWER = {"k": 1, "m": 2, "g": 3, "t": 4}
MIN_MEMORY = 128 * 10**6  # below this neither engine starts


def machine_memory() -> int:
    """This machine's physical memory, in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_bytes(limit: str) -> int:
    """``memory_limit`` in bytes ('1536MB', '1.5GB', '4GiB', '4g', '50%'); ValueError for
    anything else."""
    match = _SIZE.fullmatch(limit)
    if match is None:
        raise ValueError(f"{limit!r} is not a memory size (e.g. 1536MB, 4GB, 4GiB, 50%)")
    number, unit, binary, percent = match.groups()
    if percent:
        return int(float(number) / 100 * machine_memory())
    return int(float(number) * (1024 if binary else 1000) ** _POWER[unit.lower()])


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
    engine: Annotated[EngineName, _one_of("engine", get_args(EngineName))] = "duckdb"
    store: Annotated[StoreName, _one_of("store", get_args(StoreName))] = "sqlite"
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
    # `musicstream watch`: how often it lists landing when no file-system events tell it (S3),
    # and the longest wait before it tries a failed batch again (the wait doubles from 1 s).
    watch_interval_s: float = Field(default=5.0, gt=0)
    watch_max_backoff_s: float = Field(default=60.0, ge=1)
    # Quality gate: a batch where any dataset quarantines more than this share of its rows is
    # rejected (rolled back, files archived, run fails). 1.0 never rejects.
    max_bad_ratio: float = Field(default=1.0, ge=0, le=1)
    # Data-health checks (health.py): warnings in the run summary and `status --check`.
    # Freshness: warn when no batch became visible for this long (None or 0: never).
    freshness_alert_after_s: float | None = Field(default=6 * 3600, ge=0)
    # Volume: a date's kept streams against the median of its last 4 same weekdays with data;
    # below low or above high times that median warns, given at least min_history of them.
    volume_low_ratio: float = Field(default=0.5, ge=0)
    volume_high_ratio: float = Field(default=2.0, ge=1)
    volume_min_history: int = Field(default=3, ge=1)
    # Quarantine rate of a dataset and reason: warns above factor times its median over the
    # previous batches (at least min_history of them), when also >= min_rate and min_rows.
    quarantine_rate_factor: float = Field(default=3.0, ge=1)
    quarantine_min_rate: float = Field(default=0.01, ge=0, le=1)
    quarantine_min_rows: int = Field(default=10, ge=1)
    quarantine_min_history: int = Field(default=3, ge=1)
    # The checks whose warnings fail the run (e.g. ["schema_change"]); the others only warn.
    fail_on_warnings: list[HealthCheck] = Field(default_factory=list)
    webhook_url: str | None = None
    sns_topic_arn: str | None = None
    metrics_namespace: str | None = None  # CloudWatch namespace of per-run metrics; None: off
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    # The read API (`musicstream serve`): where it listens, and the bearer token every /v1
    # route then requires (none: open, which is why it binds loopback by default).
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)
    api_token: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"
    progress: bool = True

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

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, v: str | None) -> str | None:
        if v is not None and memory_bytes(v) < MIN_MEMORY:
            raise ValueError(f"{v!r} is too little memory to run in (at least 128MB)")
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
        return (init_settings, env_settings, _TomlFile(settings_cls, _config_path()))


# The file ``load_settings(config)`` names, for the settings built inside that call only.
_named_config: ContextVar[Path | None] = ContextVar("musicstream_config", default=None)


def _config_path() -> Path | None:
    """The file named to this call, else by ``MUSICSTREAM_CONFIG``, else ``musicstream.toml``
    when the working directory has one."""
    named = _named_config.get() or os.environ.get("MUSICSTREAM_CONFIG")
    if named:
        return Path(named)
    default = Path("musicstream.toml")
    return default if default.exists() else None


class _TomlFile(TomlConfigSettingsSource):
    """pydantic-settings' TOML source, strict about the file the user named.

    The file must be readable (a missing or broken one is a UserError, never silently no
    config), and its settings are either top-level keys or a ``[musicstream]`` table.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls, toml_file=path)

    @staticmethod
    def _existing_files(files: Any) -> list[Any]:
        """Every named file, existing or not: reading an absent one is the error to report."""
        return [] if files is None else [files]

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except FileNotFoundError:
            raise UserError(f"config file not found: {file_path}") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"cannot read config file {file_path}: {exc}") from None
        return dict(data.get("musicstream", data))


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; ``overrides`` are CLI flags (None means 'not given')."""
    given = {k: v for k, v in overrides.items() if v is not None}
    token = _named_config.set(config)
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UserError(f"invalid setting {where}: {message}") from None
    finally:
        _named_config.reset(token)
