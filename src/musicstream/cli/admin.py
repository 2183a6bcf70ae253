"""Commands that look after the lake and the store: unlock, repair, store init."""

from __future__ import annotations

import typer

from musicstream.cli.common import (
    Config,
    Engine,
    Lake,
    LogFormat,
    StoreName,
    app,
    emit,
    require_writable,
    settings_from,
    store_app,
)


@app.command()
def unlock(lake: Lake = None, config: Config = None) -> None:
    """Remove the lake's run lock (only when the run that held it is dead)."""
    from musicstream import layout
    from musicstream.pipeline import lake_for
    from musicstream.state import read_lock

    settings = settings_from(config, None, lake=lake)
    require_writable(settings)
    target = lake_for(settings)
    holder = read_lock(target)
    target.remove(layout.LOCK)
    typer.echo(f"removed lock {holder}" if holder else "no lock was held")


@app.command()
def repair(
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Set damaged ledger files aside and make the lake consistent again (see `status`)."""
    from musicstream import repair as repair_mod

    settings = settings_from(config, log_format, lake=lake, engine=engine, store=store)
    require_writable(settings)
    report = repair_mod.repair(settings)
    emit(settings, report, repair_mod.render)


@store_app.command("init")
def store_init(lake: Lake = None, store: StoreName = None, config: Config = None) -> None:
    """Create the store's tables and indexes (idempotent)."""
    from musicstream.stores import create_store

    kv = create_store(settings_from(config, None, lake=lake, store=store))
    try:
        kv.init()
    finally:
        kv.close()
    typer.echo("store ready")
