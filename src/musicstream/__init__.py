"""musicstream: music-streaming analytics — raw exports in, trustworthy daily KPIs out."""

__version__ = "0.1.0"
