"""The shipped sample: Quandl WIKI daily prices of AAPL, IBM, MSFT, GOOGL (the file's GOOG) and
META (the file's FB), 2000-03-01..2013-03-01, public domain (`mcp_trading/data/sample/README.md`).

The file is checked against its sha256 before anything is read, so a damaged or replaced file
is refused whole. Its bars are stored under the source `sample`, with the file's legacy names
mapped to the platform's: GOOG (Google's pre-2014 class A history, filed by Quandl as GOOGL)
-> GOOGL, FB (renamed Meta Platforms, ticker META since 2022-06-09) -> META.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from importlib import resources
from pathlib import Path

from mcp_trading.adapters.feeds.universe import DEFAULT_SYMBOLS
from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.importer import Progress, import_file
from mcp_trading.adapters.history.summary import ImportSummary
from mcp_trading.domain.errors import InvalidError

__all__ = ["SAMPLE_RENAMES", "SAMPLE_SHA256", "SAMPLE_SOURCE", "import_sample", "sample_path",
           "sha256_of"]

SAMPLE_SHA256 = "5abadf99b2d394f920120a27de6f0df129859d71d4cfb0bf661bcc99446ab1fd"
SAMPLE_SOURCE = "sample"
SAMPLE_RENAMES = {"GOOG": "GOOGL", "FB": "META"}


def sample_path() -> Path:
    """Where the installed package keeps the sample file."""
    return Path(str(resources.files("mcp_trading") / "data" / "sample" / "stocks.csv.gz"))


def sha256_of(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_sample(store: HistoryStore, *, path: Path | None = None,
                  known: Collection[str] = DEFAULT_SYMBOLS, now_ns: int | None = None,
                  progress: Progress | None = None) -> ImportSummary:
    """Check the sample's sha256, then import it (source `sample`, names mapped)."""
    path = sample_path() if path is None else path
    try:
        found = sha256_of(path)
    except OSError as exc:
        raise InvalidError(f"{path}: cannot read the shipped sample ({exc}); reinstall "
                           "mcp-trading", field="sample") from exc
    if found != SAMPLE_SHA256:
        raise InvalidError(f"{path}: the sample's sha256 is {found}, not {SAMPLE_SHA256}: the "
                           "file is damaged or not the shipped one; nothing was stored. "
                           "Reinstall mcp-trading", field="sample",
                           extra={"sha256": found, "expected": SAMPLE_SHA256})
    return import_file(store, path, source=SAMPLE_SOURCE, renames=SAMPLE_RENAMES, known=known,
                       now_ns=now_ns, progress=progress)
