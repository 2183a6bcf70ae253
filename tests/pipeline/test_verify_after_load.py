"""A run checks the store against the lake for the dates it loaded before it archives: a
store that does not keep what it was given fails the run loudly, and the batch is loaded
again by the next run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import Landing, cli, land_first

STORE = Path("_state") / "kpis.sqlite"


def test_a_store_that_loses_rows_fails_the_run_before_archiving(
    lake: Path, landing: Landing
) -> None:
    land_first(landing)
    assert cli("run", "--lake", str(lake)).returncode == 0
    # The store quietly drops a row it is given (a broken replica, a hand-made trigger).
    con = sqlite3.connect(lake / STORE)
    con.execute(
        "create trigger lose after insert on country_daily when new.country = 'DE' "
        "begin delete from country_daily where report_date = new.report_date "
        "and country = new.country; end"
    )
    con.commit()
    landing.users([["u3", "c", 40, "DE", ""]], name="u2.csv")
    landing.streams([["u3", "t1", "2026-01-05 09:00:00", ""]], name="b.csv")

    failed = cli("run", "--lake", str(lake), "--log-format", "json")
    assert failed.returncode == 1
    last = json.loads(failed.stderr.splitlines()[-1])
    assert "does not match the lake after loading" in last["msg"]
    assert "country_daily 2026-01-05" in last["msg"]
    assert (lake / "landing" / "streams" / "b.csv").exists()  # not archived
    [manifest] = [
        json.loads(p.read_text())
        for p in (lake / "_state" / "batches").glob("*.json")
        if json.loads(p.read_text())["status"] != "archived"
    ]
    assert manifest["status"] == "computed"

    con.execute("drop trigger lose")
    con.commit()
    again = cli("run", "--lake", str(lake))
    assert again.returncode == 0, again.stderr
    assert not (lake / "landing" / "streams" / "b.csv").exists()
    assert cli("verify", "--lake", str(lake)).returncode == 0


def test_a_run_on_a_deleted_store_says_how_to_rebuild_it(lake: Path, landing: Landing) -> None:
    land_first(landing)
    assert cli("run", "--lake", str(lake)).returncode == 0
    (lake / STORE).unlink()
    landing.streams([["u1", "t2", "2026-01-05 09:00:00", ""]], name="b.csv")
    proc = cli("run", "--lake", str(lake))
    assert proc.returncode == 0, proc.stderr
    flat = " ".join(proc.stderr.split())
    assert "had no load recorded" in flat
    assert "musicstream backfill --from 2026-01-02 --to 2026-01-03" in flat

    assert cli("verify", "--lake", str(lake)).returncode == 1  # the other dates are missing
    assert (
        cli(
            "backfill", "--from", "2026-01-02", "--to", "2026-01-03", "--lake", str(lake)
        ).returncode
        == 0
    )
    assert cli("verify", "--lake", str(lake)).returncode == 0


def test_backfill_says_which_dates_it_cannot_recompute(lake: Path, landing: Landing) -> None:
    """A curated partition deleted by hand: backfill skips that date (nothing to compute it
    from) and says so, rather than leaving its stale KPIs without a word."""
    land_first(landing)
    assert cli("run", "--lake", str(lake)).returncode == 0
    for part in (lake / "curated" / "streams" / "report_date=2026-01-03").glob("*"):
        part.unlink()
    proc = cli("backfill", "--from", "2026-01-01", "--to", "2026-01-31", "--lake", str(lake))
    assert proc.returncode == 0, proc.stderr
    flat = " ".join(proc.stderr.split())
    assert "1 date(s) have KPIs but no curated streams" in flat and "2026-01-03" in flat
    found = cli("verify", "--lake", str(lake))
    assert found.returncode == 1 and "2026-01-03" in found.stdout
