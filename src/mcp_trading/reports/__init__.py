"""End-of-day reports: the shared plumbing (`store`: files under <data dir>/reports/<date>/
and the `reports` table) and each report (`daily`: the daily trading report).

A report is a JSON document (its schema in `schemas.py`), a terminal text (rich tables) and
one self-contained HTML page; the three are built together and stored together. A new
report (risk, performance) adds a builder that returns a `Report` and a schema entry.
"""

__all__: list[str] = []
