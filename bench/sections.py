"""Sections of BENCHMARKS.md that another command writes: the text between a start and an end
marker belongs to that command (``make bench-api``, ``python -m bench.freshness``); ``make
bench`` rewrites the rest of the file and carries each such section over as it was."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Section:
    start: str
    end: str

    def block(self, section: str) -> str:
        """``section`` between the markers."""
        return f"{self.start}\n{section.strip()}\n{self.end}\n"

    def splice(self, path: Path, section: str) -> None:
        """Replace the text between the markers with ``section`` (append it when absent)."""
        text = path.read_text() if path.exists() else ""
        block = self.block(section)
        if self.start in text and self.end in text:
            head, rest = text.split(self.start, 1)
            text = head + block + rest.split(self.end, 1)[1].lstrip("\n")
        else:
            text = text.rstrip("\n") + ("\n\n" if text else "") + block
        path.write_text(text)

    def kept(self, path: Path) -> str:
        """The section a previous run left in ``path`` (markers included), or ''."""
        text = path.read_text() if path.exists() else ""
        if self.start not in text or self.end not in text:
            return ""
        return self.start + text.split(self.start, 1)[1].split(self.end, 1)[0] + self.end + "\n"


API = Section("<!-- bench-api:start: written by `make bench-api` -->", "<!-- bench-api:end -->")
FRESHNESS = Section(
    "<!-- bench-freshness:start: written by `make bench` and `python -m bench.freshness` -->",
    "<!-- bench-freshness:end -->",
)
