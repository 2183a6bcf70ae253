"""Synthetic landing zones for musicstream: songs, users and streams CSVs, optionally dirty.

``generate`` writes a first batch from parameters; ``generate_increment`` writes a second
batch relative to one already generated (late and duplicate streams, dimension changes).
Everything is DuckDB SQL over ``range()`` with seeded hashes: same arguments, same bytes.
"""

from musicstream.generate.increment import generate_increment
from musicstream.generate.initial import generate
from musicstream.generate.summary import GenerateSummary

__all__ = ["GenerateSummary", "generate", "generate_increment"]
