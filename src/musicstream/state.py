"""The lake's ``_state/``: a ledger of batches (one JSON manifest each) and the run lock."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from musicstream import layout
from musicstream.errors import LedgerDamaged
from musicstream.lake import Lake

# The run lock lives in musicstream.lock; these names stay importable from here.
from musicstream.lock import LockInfo as LockInfo
from musicstream.lock import read_lock as read_lock
from musicstream.lock import run_lock as run_lock

PLANNED, COMMITTED, ARCHIVED = "planned", "committed", "archived"
# Stage boundaries of a batch processed step by step (pipeline/), and the quality gate's verdict.
CURATED, COMPUTED, REJECTED = "curated", "computed", "rejected"


@dataclass
class FileEntry:
    """One landing file of a batch, and what became of its rows."""

    dataset: str
    path: str  # lake-relative landing path
    sha256: str
    size: int
    duplicate_of: str | None = None  # an earlier batch's file with the same content
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    landed: float = 0.0  # when it landed (mtime / LastModified): dimension files apply in order
    version: str | None = None  # the landing file's version when planned (Lake.version)
    staged: str | None = None  # the copy the batch processes (local lakes), until archived
    reason: str | None = None  # a file-level quarantine reason (SPEC §2): quarantined whole
    detail: str | None = None  # that reason's one-line error
    # The planned content was never processed: the landing file changed before it could be
    # read (no staged copy: S3). It stays in landing; its hash is not "known".
    skipped: str | None = None
    left_in_landing: bool = False  # it changed after it was processed: a later run takes it
    columns: list[str] | None = None  # its header as read (normalized); None: never read

    @property
    def processed(self) -> bool:
        """Whether the planned content counts as seen: False if it never could be read."""
        return self.skipped is None and self.reason != "missing_file"


@dataclass
class Batch:
    """A run's unit of work: the landing files not yet in the ledger (SPEC §4)."""

    batch_id: str
    clock: str  # the run clock, ISO UTC; fixed at planning so a retried batch behaves the same
    files: list[FileEntry]
    status: str = PLANNED
    dates: list[str] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)
    duration_s: float | None = None
    max_bad_ratio: float = 1.0  # the quality gate, fixed at planning like the clock
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, over retries
    store_items: int = 0  # rows the load wrote into the store (KPIs, periods, dimensions)
    loaded_at: float | None = None  # when the load finished (epoch s): landed → visible

    @property
    def clock_dt(self) -> datetime:
        return datetime.fromisoformat(self.clock)

    def data_files(self, dataset: str) -> list[FileEntry]:
        """The dataset's files to read, in the order they landed (later files win upserts)."""
        mine = [f for f in self.files if f.dataset == dataset and f.duplicate_of is None]
        return sorted(mine, key=lambda f: (f.landed, f.path))

    def staged_copies(self) -> set[str]:
        return {f.staged for f in self.files if f.staged}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Batch:
        files = [FileEntry(**f) for f in obj.pop("files")]
        return cls(files=files, **obj)


class Ledger:
    """Batches recorded in the lake; a batch's manifest is rewritten as it advances."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def batches(self) -> list[Batch]:
        """Every recorded batch, oldest first (batch ids sort by time).

        A damaged manifest raises :class:`LedgerDamaged`: planning without it would take
        its batch's files for new ones and count their rows twice.
        """
        batches, damaged = self.scan()
        if damaged:
            raise damaged[0]
        return batches

    def scan(self) -> tuple[list[Batch], list[LedgerDamaged]]:
        """The readable batches, and the damaged manifests (``status`` and ``repair``)."""
        batches: list[Batch] = []
        damaged: list[LedgerDamaged] = []
        for rel in self.manifests():
            try:
                batches.append(self._read(rel))
            except LedgerDamaged as exc:
                damaged.append(exc)
        return batches, damaged

    def manifests(self) -> list[str]:
        """Lake-relative paths of every manifest, oldest batch first."""
        return [p for p in self.lake.files(layout.BATCHES) if p.endswith(".json")]

    def get(self, batch_id: str) -> Batch:
        return self._read(layout.manifest(batch_id))

    def _read(self, rel: str) -> Batch:
        """One manifest: FileNotFoundError when there is none, LedgerDamaged when unreadable."""
        data = self.lake.read_bytes(rel)
        batch_id = rel.rsplit("/", 1)[-1].removesuffix(".json")
        try:
            return parse_manifest(data, batch_id)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise LedgerDamaged(damaged_message(self.lake, rel, exc), rel) from None

    def save(self, batch: Batch) -> None:
        self.lake.write_json(layout.manifest(batch.batch_id), asdict(batch))

    def known_hashes(self, batches: list[Batch] | None = None) -> dict[str, str]:
        """Content hash → the landing path that first brought it.

        A rejected batch's files are not known: landing them again (say, with a higher
        ``max_bad_ratio``) processes them anew.
        """
        known: dict[str, str] = {}
        for batch in self.batches() if batches is None else batches:
            if batch.status == REJECTED:
                continue
            for f in batch.files:
                if f.processed:
                    known.setdefault(f.sha256, f.duplicate_of or f.path)
        return known


STATUSES = (PLANNED, CURATED, COMPUTED, COMMITTED, ARCHIVED, REJECTED)


def parse_manifest(data: bytes, batch_id: str) -> Batch:
    """A manifest's batch, checked for the shape the steps and ``status`` rely on.

    Raises ValueError, TypeError or KeyError naming what is wrong: a manifest is only ever
    written whole (:meth:`Lake.write_bytes`), so a bad one was damaged outside the pipeline.
    """
    if not data.strip():
        raise ValueError("empty file")
    obj = json.loads(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("files"), list):
        raise ValueError("not a batch manifest (no list of files)")
    batch = Batch.from_json(obj)
    if batch.batch_id != batch_id:
        raise ValueError(f"it records batch {batch.batch_id!r}")
    if batch.status not in STATUSES:
        raise ValueError(f"unknown status {batch.status!r}")
    datetime.fromisoformat(batch.clock)
    for day in batch.dates:
        datetime.strptime(day, "%Y-%m-%d")
    for f in batch.files:
        counts = (f.size, f.rows_read, f.rows_kept, f.rows_quarantined)
        if not (isinstance(f.path, str) and isinstance(f.sha256, str)) or not all(
            isinstance(n, int) for n in counts
        ):
            raise ValueError(f"bad file entry {f.path!r}")
    if not all(isinstance(q, dict) and isinstance(q.get("rows"), int) for q in batch.quality):
        raise ValueError("bad quality rows")
    return batch


def damaged_message(lake: Lake, rel: str, exc: Exception) -> str:
    """One line: which file, what is wrong with it, and the command that repairs the lake."""
    if isinstance(exc, json.JSONDecodeError):
        reason = f"not valid JSON ({exc.msg} at line {exc.lineno})"
    elif isinstance(exc, KeyError):
        reason = f"missing field {exc}"
    elif isinstance(exc, UnicodeDecodeError):
        reason = f"not UTF-8 text (byte {exc.start})"
    else:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"damaged ledger file {lake.uri(rel)}: {reason}; run `musicstream repair --lake {lake.url}`"
    )
