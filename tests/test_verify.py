"""`musicstream verify` on a lake the real pipeline built: it finds what differs between the
store and the lake (on SQLite and on DynamoDB), and in the lake itself, names the table, the
date and the command that repairs it, and passes once that command ran."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from aws_local import HAVE_AWS, REGION, client
from conftest import Landing, cli, song
from musicstream import pipeline
from musicstream.cli import app
from musicstream.lake import open_lake
from musicstream.repair import repair
from musicstream.settings import Settings, load_settings
from musicstream.stores import create_store
from musicstream.verify import TABLES, Finding, verify, verify_loaded
from musicstream.verify.compare import difference

D2, D3, D4, D5 = (date(2026, 1, d) for d in (2, 3, 4, 5))
DYNAMODB = pytest.param(
    "dynamodb",
    marks=[pytest.mark.aws, pytest.mark.skipif(not HAVE_AWS, reason="needs moto and s3fs")],
)


def land(lake: Path) -> None:
    """Batch 1: 2026-01-02 and -03 (a stream of an unknown user quarantined; the song of
    the -03 credits no artist, so top_artists_daily has no rows that day). Averages such as
    23 / 3 need all 17 digits to come back from DynamoDB the same."""
    landing = Landing(lake)
    landing.songs(
        [
            song(0, "t1", "pop", 1000, "A;B"),
            song(1, "t2", "rock", 2000, "B"),
            song(2, "t3", "jazz", 3000, ""),
        ]
    )
    landing.users(
        [["u1", "a", 30, "US", "2026-01-01"], ["u2", "b", 30, "FR", ""], ["u3", "c", 40, "", ""]]
    )
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", ""],
            ["u2", "t2", "2026-01-02 11:00:00", 5],
            ["u1", "t2", "2026-01-02 11:30:00", 7],  # rock's averages: 23 / 3
            ["u3", "t2", "2026-01-02 12:00:00", 11],
            ["u3", "t3", "2026-01-03 10:00:00", ""],
            ["ghost", "t2", "2026-01-03 11:00:00", 5],
        ],
        name="a.csv",
    )


def land_second(lake: Path) -> None:
    """Batch 2: late data for 2026-01-02 and a new date, 2026-01-05 (none on -04)."""
    Landing(lake).streams(
        [["u3", "t1", "2026-01-02 13:00:00", ""], ["u1", "t2", "2026-01-05 09:00:00", 7]],
        name="b.csv",
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One lake for the module, after two batches: each test works on a copy."""
    lake = tmp_path_factory.mktemp("verify") / "lake"
    land(lake)
    pipeline.run(load_settings(lake=str(lake), progress=False))
    land_second(lake)
    pipeline.run(load_settings(lake=str(lake), progress=False))
    return lake


@pytest.fixture
def lake(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture
def settings(lake: Path) -> Settings:
    return load_settings(lake=str(lake), progress=False)


def findings(settings: Settings, *args: Any, **kw: Any) -> set[tuple[str, date | None, str | None]]:
    return {(f.table, f.day, f.period) for f in verify(settings, *args, **kw).findings}


# -- the store against the lake, on each store -------------------------------------------------


class Sqlite:
    """Changes behind the store's back, in the SQLite file of a lake."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.path = settings, Path(settings.lake) / "_state" / "kpis.sqlite"
        self.env: dict[str, str] = {}

    def run(self, sql: str, *args: Any) -> None:
        con = sqlite3.connect(self.path)
        with con:
            con.execute(sql, args)
        con.close()

    def damage(self) -> None:
        self.run("delete from genre_daily where report_date = '2026-01-02' and genre = 'pop'")
        self.run("update track_daily set listen_count = 9 where report_date = '2026-01-03'")
        self.run(
            "insert into user_daily (report_date, user_id, listen_count) "
            "values ('2026-01-05', 'ghost', 1)"
        )


class Dynamo:
    """The same changes on DynamoDB tables (on the session's moto server)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = client("dynamodb", settings.aws_endpoint_url or "")
        self.env = {
            "MUSICSTREAM_STORE": "dynamodb",
            "MUSICSTREAM_STORE_PREFIX": settings.store_prefix,
            "MUSICSTREAM_AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
            "MUSICSTREAM_AWS_REGION": REGION,
        }

    def table(self, name: str) -> str:
        return f"{self.settings.store_prefix}{name}"

    def damage(self) -> None:
        self.db.delete_item(
            TableName=self.table("genre_daily"),
            Key={"report_date": {"S": "2026-01-02"}, "genre": {"S": "pop"}},
        )
        self.db.update_item(
            TableName=self.table("track_daily"),
            Key={"track_id": {"S": "t3"}, "report_date": {"S": "2026-01-03"}},
            UpdateExpression="SET listen_count = :n",
            ExpressionAttributeValues={":n": {"N": "9"}},
        )
        item = {"user_id": "ghost", "report_date": "2026-01-05", "listen_count": "1"}
        self.db.put_item(
            TableName=self.table("user_daily"),
            Item={k: {"N" if k == "listen_count" else "S": v} for k, v in item.items()},
        )


@pytest.fixture(params=["sqlite", DYNAMODB])
def store(
    request: pytest.FixtureRequest, lake: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Sqlite | Dynamo:
    """The lake's store, loaded by the pipeline: its SQLite file, or DynamoDB tables a
    backfill of the whole lake filled."""
    if request.param == "sqlite":
        return Sqlite(settings)
    from musicstream.stores.dynamodb import DynamoDBStore

    request.getfixturevalue("aws_env")
    endpoint = request.getfixturevalue("endpoint")
    dynamo = load_settings(
        lake=str(lake),
        store="dynamodb",
        store_prefix=f"v{uuid.uuid4().hex[:8]}_",
        aws_endpoint_url=endpoint,
        aws_region=REGION,
        progress=False,
    )
    pipeline.backfill(dynamo, D2, D5)
    monkeypatch.setattr(DynamoDBStore, "settle_s", 0.1)  # moto's index is never late
    return Dynamo(dynamo)


def invoke(lake: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """``musicstream verify --log-format json ARGS`` in process: exit code and report."""
    result = CliRunner().invoke(
        app, ["verify", "--lake", str(lake), "--log-format", "json", *args], env=env
    )
    assert result.exception is None or result.exit_code == 1, result.output
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def files(lake: Path) -> dict[Path, int]:
    """Every file and when it last changed, but SQLite's WAL index (readers mark it)."""
    found = [p for p in lake.rglob("*") if p.is_file() and not p.name.endswith(("-shm", "-wal"))]
    return {p: p.stat().st_mtime_ns for p in found}


def test_a_store_loaded_by_the_pipeline_matches_its_lake_and_verify_writes_nothing(
    lake: Path,
) -> None:
    before = files(lake)
    result = CliRunner().invoke(app, ["verify", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "store matches the lake: 9 tables × 4 dates checked"  # noqa: RUF001
    assert files(lake) == before  # no lock taken, nothing written


def test_deleted_altered_and_extra_store_rows_are_found_then_backfill_repairs_them(
    lake: Path, store: Sqlite | Dynamo
) -> None:
    assert invoke(lake, env=store.env)[0] == 0
    store.damage()
    code, report = invoke(lake, env=store.env)
    assert code == 1
    found = {(f["table"], f["day"]): f for f in report["findings"]}
    assert set(found) == {
        ("genre_daily", "2026-01-02"),
        ("track_daily", "2026-01-03"),
        ("user_daily", "2026-01-05"),
    }
    assert found["genre_daily", "2026-01-02"]["problem"] == (
        "store has 1 row(s), lake 2 (first difference: genre=pop)"
    )
    assert found["track_daily", "2026-01-03"]["problem"].startswith("checksum differs: 1 of 1")
    assert found["user_daily", "2026-01-05"]["problem"].startswith("store has 2 row(s), lake 1")
    for (_, day), finding in found.items():
        assert f"musicstream backfill --from {day} --to {day} --lake {lake}" in finding["repair"]
    pipeline.backfill(store.settings, D2, D5)
    assert invoke(lake, env=store.env) == (0, {**report, "findings": [], "ok": True})


def test_the_text_report_names_tables_dates_and_the_command(lake: Path, settings: Settings) -> None:
    Sqlite(settings).damage()
    result = CliRunner().invoke(app, ["verify", "--lake", str(lake)])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("3 difference(s); 9 tables × 4 dates checked")  # noqa: RUF001
    for name in ("genre_daily", "track_daily", "user_daily", "2026-01-02", "2026-01-03"):
        assert name in result.stdout
    assert result.stdout.count("musicstream") == 3 and "backfill" in result.stdout


def test_a_date_the_lake_lacks_is_found_in_the_store(lake: Path, settings: Settings) -> None:
    """-04 is inside the lake's range; -09 only inside the range the store's loads span."""
    kv = Sqlite(settings)
    kv.run("insert into hourly_activity (report_date, hour) values ('2026-01-04', 3)")
    kv.run("insert into country_daily (report_date, country) values ('2026-01-09', 'US')")
    kv.run(
        "insert into loads (batch_id, finished_at, dates, date_from, date_to) "
        "values ('b', '2026-01-10T00:00:00.000000Z', 1, '2026-01-09', '2026-01-09')"
    )
    report = verify(settings)
    assert report.dates == 8
    [four, nine] = report.findings
    assert (four.table, four.day, nine.table, nine.day) == (
        "hourly_activity",
        D4,
        "country_daily",
        date(2026, 1, 9),
    )
    assert four.problem == "store has 1 row(s) the lake lacks"
    # backfill skips a date without curated streams: the finding says what does work
    assert four.repair.startswith(
        "remove the store, then `musicstream backfill --from 2026-01-02 --to 2026-01-05"
    )


def test_table_and_dates_narrow_the_check(lake: Path, settings: Settings) -> None:
    Sqlite(settings).damage()
    every = {("genre_daily", D2, None), ("track_daily", D3, None), ("user_daily", D5, None)}
    assert findings(settings) == every
    assert findings(settings, tables=["track_daily"]) == {("track_daily", D3, None)}
    assert findings(settings, D3, D5) == every - {("genre_daily", D2, None)}
    assert findings(settings, None, D2, ["genre_daily", "user_daily"]) == {
        ("genre_daily", D2, None)
    }
    report = verify(settings, D3, D3, ["track_daily", "active_listeners"])
    assert (report.tables, report.dates) == (("track_daily", "active_listeners"), 1)
    code, narrowed = invoke(
        lake, "--table", "user_daily", "--table", "genre_daily", "--from", "2026-01-03"
    )
    assert (code, [(f["table"], f["day"]) for f in narrowed["findings"]]) == (
        1,
        [("user_daily", "2026-01-05")],
    )


def test_an_altered_period_is_found(settings: Settings) -> None:
    Sqlite(settings).run("update active_listeners set listeners = 7 where period = 'month'")
    [month] = verify(settings).findings
    assert (month.table, month.period, month.day) == ("active_listeners", "month", date(2026, 1, 1))
    assert month.repair.startswith("musicstream backfill --from 2026-01-02 --to 2026-01-05")


def test_a_bad_table_is_one_line(lake: Path) -> None:
    proc = cli("verify", "--lake", str(lake), "--table", "genre_dialy")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: unknown KPI table 'genre_dialy'; one of {', '.join(TABLES)}"
    ]
    assert proc.stdout == ""


# -- the lake against itself ---------------------------------------------------------------------


def batches(lake: Path) -> list[str]:
    return sorted(p.stem for p in (lake / "_state" / "batches").glob("*.json"))


def test_a_deleted_curated_partition_is_found(lake: Path, settings: Settings) -> None:
    _, second = batches(lake)
    (lake / "curated" / "streams" / "report_date=2026-01-05" / f"{second}.parquet").unlink()
    [lost] = verify(settings).findings
    assert (lost.table, lost.day) == ("curated", D5)
    rel = f"curated/streams/report_date=2026-01-05/{second}.parquet"
    assert (
        lost.problem == f"{rel} is missing: batch {second} recorded 2 kept stream(s) over 2 date(s)"
    )
    assert lost.repair.startswith(
        f"restore {rel} from a backup, then `musicstream backfill --from 2026-01-05"
    )


def test_a_curated_file_with_other_rows_than_recorded_is_found(
    lake: Path, settings: Settings
) -> None:
    first, _ = batches(lake)
    path = lake / "curated" / "streams" / "report_date=2026-01-03" / f"{first}.parquet"
    data = pq.read_table(path)
    pq.write_table(pa.concat_tables([data, data]), path)  # the date's one stream, twice
    [count] = verify(settings).findings
    rel = f"curated/streams/report_date=*/{first}.parquet"
    assert (count.table, count.day) == ("curated", D2)  # the batch's first date
    assert count.problem == f"batch {first} recorded 5 kept stream(s), {rel} hold 6"


def test_a_damaged_manifest_is_found_and_once_repaired_its_batch_checks_out(
    lake: Path, settings: Settings
) -> None:
    """``repair`` rebuilds the manifest from the archive without per-file row counts: its
    quality rows still say how many streams the batch kept, so that is no false alarm."""
    first, _ = batches(lake)
    (lake / "_state" / "batches" / f"{first}.json").write_text("{")
    [damaged] = verify(settings).findings
    assert (damaged.table, damaged.repair) == ("ledger", f"musicstream repair --lake {lake}")
    repair(settings)
    rebuilt = json.loads((lake / "_state" / "batches" / f"{first}.json").read_text())
    assert {f["rows_kept"] for f in rebuilt["files"]} == {0}
    assert verify(settings).ok


def test_a_date_without_its_kpis_is_found(lake: Path, settings: Settings) -> None:
    """genre_daily always has rows for a date with streams (top_artists_daily need not: the
    -03 has none, and that is no finding)."""
    shutil.rmtree(lake / "kpis" / "genre_daily" / "report_date=2026-01-03")
    assert not (lake / "kpis" / "top_artists_daily" / "report_date=2026-01-03").exists()
    [missing] = verify(settings).findings
    assert (missing.table, missing.day) == ("kpis", D3)
    assert missing.problem == "the lake has no genre_daily rows for a date with streams"
    assert missing.repair.startswith("musicstream backfill --from 2026-01-03 --to 2026-01-03")
    pipeline.backfill(settings, D3, D3)
    assert verify(settings).ok


def test_a_deleted_store_is_one_finding_and_verify_creates_nothing(lake: Path) -> None:
    for path in (lake / "_state").glob("kpis.sqlite*"):
        path.unlink()
    code, report = invoke(lake)
    assert code == 1
    [finding] = report["findings"]
    store = lake / "_state" / "kpis.sqlite"
    assert finding["table"] == "store"
    assert finding["problem"] == (
        f"SQLite store {store} is missing (or has no tables): rebuild it from the lake"
    )
    assert finding["repair"] == (
        f"musicstream backfill --from 2026-01-02 --to 2026-01-05 --lake {lake}"
    )
    assert not store.exists()


# -- after a load --------------------------------------------------------------------------------


def test_verify_loaded_checks_exactly_the_dates_and_their_periods(settings: Settings) -> None:
    lake, store = open_lake(settings.lake), create_store(settings, read_only=True)
    try:
        assert verify_loaded(lake, store, [D2, D3, D5]) == []
        Sqlite(settings).damage()
        found = verify_loaded(lake, store, [D3])
        assert [(f.table, f.day) for f in found] == [("track_daily", D3)]
        assert isinstance(found[0], Finding) and "backfill --from 2026-01-03" in found[0].repair
    finally:
        store.close()


def test_floats_agree_to_12_digits_and_a_changed_value_shows() -> None:
    lake = [
        {
            "genre": "pop",
            "listen_count": 3,
            "unique_listeners": 2,
            "total_listening_ms": 7,
            "avg_listening_ms_per_stream": 7 / 3,
            "avg_listening_ms_per_user": 3.5,
        }
    ]
    store = [{**lake[0], "report_date": "2026-01-02"}]
    assert difference("genre_daily", store, lake) is None
    store[0]["avg_listening_ms_per_stream"] = float(f"{7 / 3:.15g}")  # a text round trip
    assert difference("genre_daily", store, lake) is None
    store[0]["avg_listening_ms_per_stream"] = 2.3334
    assert (
        difference("genre_daily", store, lake)
        == "checksum differs: 1 of 1 row(s) (first difference: genre=pop)"
    )


# -- the whole-table comparison finds what the rows would -----------------------------------------

ROCK = "report_date = '2026-01-02' and genre = 'rock'"


@pytest.mark.parametrize(
    ("change", "found"),
    [
        pytest.param(
            # 23 / 3 = 7.666666666666667 to 10 digits
            f"update genre_daily set avg_listening_ms_per_stream = 7.666666667 where {ROCK}",
            ("genre_daily", D2, "checksum differs: 1 of 2 row(s) (first difference: genre=rock)"),
            id="a float changed in its 10th digit",
        ),
        pytest.param(
            # the same to 12 digits: no finding, as in
            # test_floats_agree_to_12_digits_and_a_changed_value_shows
            f"update genre_daily set avg_listening_ms_per_stream = 7.666666666666674 where {ROCK}",
            None,
            id="a float changed in its 15th digit only",
        ),
        pytest.param(
            # u1 has 1007 ms, u3 1011 (both 2 streams of pop): the same counts and sums
            "update user_daily set total_listening_ms = 2018 - total_listening_ms "
            "where report_date = '2026-01-02' and user_id in ('u1', 'u3')",
            ("user_daily", D2, "checksum differs: 2 of 3 row(s) (first difference: user_id=u1)"),
            id="a value swapped between two rows",
        ),
        pytest.param(
            "update track_daily set artists = '' where report_date = '2026-01-03'",  # was NULL
            ("track_daily", D3, "checksum differs: 1 of 1 row(s) (first difference: track_id=t3)"),
            id="an empty string for a NULL",
        ),
        pytest.param(
            "update track_daily set listen_count = 3.5 where report_date = '2026-01-02' "
            "and track_id = 't2'",  # the lake's 3, which Arrow would read 3.5 as
            ("track_daily", D2, "checksum differs: 1 of 2 row(s) (first difference: track_id=t2)"),
            id="a REAL in an int column",
        ),
    ],
)
def test_the_whole_table_comparison_finds_what_the_rows_would(
    settings: Settings, change: str, found: tuple[str, date, str] | None
) -> None:
    """Each partition is compared as two sorted Arrow tables first, and only one that
    differs as rows: a change the rows show must show there too, and one the rows forgive
    (floats agree to 12 digits) must be no finding."""
    lake, store = open_lake(settings.lake), create_store(settings, read_only=True)
    try:
        assert verify_loaded(lake, store, [D2, D3, D5]) == []
        Sqlite(settings).run(change)
        findings = verify_loaded(lake, store, [D2, D3, D5])
    finally:
        store.close()
    assert [(f.table, f.day, f.problem) for f in findings] == ([found] if found else [])
