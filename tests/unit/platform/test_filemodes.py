"""Private files: the umask rule and tightening a data directory an older version left open."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.platform import filemodes
from mcp_trading.platform.filemodes import current_umask, restrict_umask, secure_data_dir


@pytest.fixture(autouse=True)
def keep_umask() -> Iterator[None]:
    before = current_umask()
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_public_surface_is_pinned() -> None:
    assert set(filemodes.__all__) == {"PRIVATE_UMASK", "current_umask", "restrict_umask",
                                      "secure_data_dir", "secure_dir"}


@pytest.mark.parametrize(("before", "after"), [
    (0o022, 0o077), (0o002, 0o077), (0o000, 0o077),  # loose: owner only
    (0o027, 0o027), (0o077, 0o077), (0o007, 0o027),  # already hides "other": kept, no g+w
])
def test_restrict_umask_hides_everything_from_other_users(before: int, after: int) -> None:
    os.umask(before)
    assert restrict_umask() == after
    assert current_umask() == after


def test_a_new_data_dir_and_its_files_are_the_owners_only(tmp_path: Path) -> None:
    os.umask(0o022)
    restrict_umask()
    settings = Settings(data_dir=tmp_path / "var")
    secure_data_dir(settings)
    (settings.data_dir / "trading.db").write_text("key hashes")
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.resolved_log_dir) == 0o700
    assert _mode(settings.data_dir / "trading.db") == 0o600


def test_files_an_older_version_left_readable_are_tightened(tmp_path: Path) -> None:
    os.umask(0o022)
    data = tmp_path / "var"
    (data / "logs").mkdir(parents=True)
    for path in (data / "trading.db", data / "trading.db-wal", data / "mcp-trading.pid",
                 data / "logs" / "emergency.log"):
        path.write_text("x")
        path.chmod(0o644)
    data.chmod(0o755)
    restrict_umask()
    secure_data_dir(Settings(data_dir=data))
    assert _mode(data) == 0o700 and _mode(data / "logs") == 0o700
    assert {_mode(p) for p in (data / "trading.db", data / "trading.db-wal",
                               data / "mcp-trading.pid", data / "logs" / "emergency.log")} == {0o600}


def test_under_the_systemd_units_umask_the_group_may_read(tmp_path: Path) -> None:
    os.umask(0o027)  # deploy/systemd: UMask=0027, Group=mcp-trading
    restrict_umask()
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "trading.db").write_text("x")
    (data / "trading.db").chmod(0o664)
    secure_data_dir(Settings(data_dir=data))
    assert _mode(data) == 0o750
    assert _mode(data / "trading.db") == 0o640


def test_a_stricter_mode_is_never_widened(tmp_path: Path) -> None:
    os.umask(0o027)
    data = tmp_path / "var"
    data.mkdir()
    data.chmod(0o700)
    (data / "trading.db").write_text("x")
    (data / "trading.db").chmod(0o600)
    secure_data_dir(Settings(data_dir=data))
    assert _mode(data) == 0o700 and _mode(data / "trading.db") == 0o600
