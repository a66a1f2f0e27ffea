"""End-of-day reports: the shared plumbing (`store`: files under <data dir>/reports/<date>/
and the `reports` table, `render`: the renderings' shared parts) and each report (`daily`:
the daily trading report, `risk`: the daily risk report, `performance`: the performance
summary).

A report is a JSON document (its schema in `schemas.py`), a terminal text (rich tables) and
one self-contained HTML page; the three are built together and stored together. A new
report adds a builder that returns a `Report`, a schema entry and a renderer on `render`.
"""

__all__: list[str] = []
