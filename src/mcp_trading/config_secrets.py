"""The secrets file: the platform's secrets in one private file that every process reads itself.

One JSON document, mode 0600, replaced whole by rename (a reader sees the old file or the new,
never half of one)::

    {"version": 1,
     "jwt_keys": [{"kid": "k-…", "secret": "…", "created_at": ns, "retire_at": ns | null}, …],
     "database": {"user": "…", "password": "…"},
     "redis": {"user": "…", "password": "…"},
     "alphavantage_api_key": "…", "smtp_password": "…"}

`jwt_keys[0]` signs new tokens; every key verifies tokens naming its `kid` until its
`retire_at` (wall-clock ns; null: no end). `database` and `redis` are the login the platform
uses, applied over the user and password of DATABASE_URL / REDIS_URL. Every key is optional.

Precedence, highest first: keyword arguments to `Settings(...)`, **the secrets file**, the
environment (systemd's `Environment=` included), `.env`, the defaults. The file wins over the
environment so that a rotation, which rewrites the file, is never undone by a stale value in a
unit file or a shell. Processes re-read the file when its (inode, size, mtime) changes, at most
every `RECHECK_S` on the hot path and at once when a token names an unknown key id.

No secret reaches a repr, an exception message or a log line: errors name the file and the
key, never a value.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from mcp_trading.domain.errors import TradingError

__all__ = ["RECHECK_S", "SECRETS_FILE_NAME", "Login", "SecretsDoc", "SecretsFileError",
           "SecretsSettings", "SigningKey", "load_secrets", "locked_secrets",
           "parse_secrets", "read_secrets", "update_secrets", "with_login", "write_secrets"]

log = logging.getLogger("mcp_trading.secrets")

SECRETS_FILE_NAME = "secrets.json"
RECHECK_S = 0.5  # hot-path re-check interval of the file's stat (a stat costs ~1 µs)
_VERSION = 1


class SecretsFileError(TradingError, ValueError):
    """The secrets file cannot be read or is not what the platform writes (the message names
    the file and the key, never a value)."""


@dataclass(frozen=True)
class SigningKey:
    """One JWT key of the ring: `kid` names it in a token's header."""

    kid: str
    secret: str = field(repr=False)
    created_at: int = 0
    retire_at: int | None = None  # wall-clock ns; tokens of this key are refused from then on

    def active(self, now_ns: int) -> bool:
        return self.retire_at is None or now_ns < self.retire_at


@dataclass(frozen=True)
class Login:
    """A user name and password (the database's or Redis's)."""

    user: str | None
    password: str = field(repr=False)


@dataclass(frozen=True)
class SecretsDoc:
    """The secrets file's content (an absent file is an empty document)."""

    jwt_keys: tuple[SigningKey, ...] = ()
    database: Login | None = None
    redis: Login | None = None
    alphavantage_api_key: str | None = field(default=None, repr=False)
    smtp_password: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)  # kept as found

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.extra, "version": _VERSION}
        out["jwt_keys"] = [{"kid": k.kid, "secret": k.secret, "created_at": k.created_at,
                            "retire_at": k.retire_at} for k in self.jwt_keys]
        for name, login in (("database", self.database), ("redis", self.redis)):
            if login is not None:
                out[name] = {"user": login.user, "password": login.password}
        for name in ("alphavantage_api_key", "smtp_password"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def _fail(path: Path, what: str) -> SecretsFileError:
    return SecretsFileError(f"secrets file {path}: {what}; fix or restore the file (it is JSON, "
                            "see `mcp-trading secrets rotate --help`), or move it aside")


def _login(path: Path, name: str, raw: Any) -> Login | None:
    if raw is None:
        return None
    if (not isinstance(raw, dict) or not isinstance(raw.get("password"), str)
            or not isinstance(raw.get("user"), str | None)):
        raise _fail(path, f"{name!r} must be an object with a string 'password' and 'user'")
    return Login(user=raw.get("user"), password=raw["password"])


def _keys(path: Path, raw: Any) -> tuple[SigningKey, ...]:
    if not isinstance(raw, list):
        raise _fail(path, "'jwt_keys' must be a list")
    keys = []
    for i, item in enumerate(raw):
        ok = (isinstance(item, dict) and isinstance(item.get("kid"), str) and item["kid"]
              and isinstance(item.get("secret"), str) and item["secret"]
              and isinstance(item.get("created_at", 0), int)
              and isinstance(item.get("retire_at"), int | None))
        if not ok:
            raise _fail(path, f"jwt_keys[{i}] needs a non-empty 'kid' and 'secret', an integer "
                              "'created_at' and an integer or null 'retire_at'")
        keys.append(SigningKey(item["kid"], item["secret"], item.get("created_at", 0),
                               item.get("retire_at")))
    return tuple(keys)


def parse_secrets(path: Path, text: str) -> SecretsDoc:
    try:
        raw = json.loads(text)
    except ValueError:
        raise _fail(path, "is not valid JSON") from None
    if not isinstance(raw, dict):
        raise _fail(path, "must hold a JSON object")
    strings = {}
    for name in ("alphavantage_api_key", "smtp_password"):
        value = raw.get(name)
        if not isinstance(value, str | None):
            raise _fail(path, f"{name!r} must be a string")
        strings[name] = value
    known = {"version", "jwt_keys", "database", "redis", *strings}
    return SecretsDoc(jwt_keys=_keys(path, raw.get("jwt_keys", [])),
                      database=_login(path, "database", raw.get("database")),
                      redis=_login(path, "redis", raw.get("redis")),
                      extra={k: v for k, v in raw.items() if k not in known}, **strings)


def read_secrets(path: Path) -> SecretsDoc:
    """The file's content, read now; an absent file is an empty document."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SecretsDoc()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})") from None
    return parse_secrets(path, text)


def write_secrets(path: Path, doc: SecretsDoc) -> None:
    """Replace the file atomically: a 0600 temporary file beside it, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = (json.dumps(doc.to_json(), indent=2) + "\n").encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)  # mkstemp makes 0600 already; say it for any umask or platform
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power loss
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked_secrets(path: Path) -> Iterator[None]:
    """Hold the file's lock (`<file>.lock`, flock): one rotation at a time on this host."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def update_secrets(path: Path, change: Callable[[SecretsDoc], SecretsDoc]) -> SecretsDoc:
    """Read, change and replace the file under its lock; returns what was written."""
    with locked_secrets(path):
        doc = change(read_secrets(path))
        write_secrets(path, doc)
    load_secrets(path, force=True)  # this process sees its own change at once
    return doc


class _Watched:
    """The last content read of one path, re-read when its stat changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.stamp: tuple[int, int, int] | None = None
        self.doc = SecretsDoc()
        self.checked = -1e18
        self.good = False  # read successfully once: a later broken file keeps this content

    def current(self, *, force: bool) -> SecretsDoc:
        now = time.monotonic()
        if not force and now - self.checked < RECHECK_S:
            return self.doc
        with self.lock:
            try:
                st = os.stat(self.path)
                stamp: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
            except FileNotFoundError:
                stamp = None
            if stamp != self.stamp:
                try:
                    self.doc = read_secrets(self.path)
                except SecretsFileError:
                    if not self.good:
                        raise  # at start-up: refuse to run on a broken file
                    # a running process never fails requests over a hand-edited file
                    log.warning("secrets file %s changed but cannot be used; keeping what was "
                                "read before (fix the file)", self.path)
                self.good = True
                self.stamp = stamp
            self.checked = now
            return self.doc


_WATCHED: dict[Path, _Watched] = {}
_WATCHED_LOCK = threading.Lock()


def load_secrets(path: Path, *, force: bool = False) -> SecretsDoc:
    """The file's content as this process last read it, re-read if the file changed (checked
    at most every RECHECK_S unless `force`)."""
    key = path.absolute()
    with _WATCHED_LOCK:
        watched = _WATCHED.get(key)
        if watched is None:
            watched = _WATCHED[key] = _Watched(key)
    return watched.current(force=force)


def with_login(url: str, login: Login | None) -> str:
    """`url` with the user and password of `login` (unchanged when None)."""
    if login is None:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    old_user = unquote(parts.netloc.rpartition("@")[0].partition(":")[0]) or None
    user = login.user if login.user is not None else old_user
    auth = (quote(user, safe="") if user else "") + ":" + quote(login.password, safe="")
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


class _SecretsFileSource(PydanticBaseSettingsSource):
    """The file's values for the settings it holds (ranked above the environment)."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource,
                 lower: tuple[PydanticBaseSettingsSource, ...]) -> None:
        super().__init__(settings_cls)
        self._init = init
        self._lower = lower

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for the whole file

    def _setting(self, name: str) -> Any:
        if isinstance(self._init, InitSettingsSource) and name in self._init.init_kwargs:
            return self._init.init_kwargs[name]
        for source in self._lower:
            values = source()
            if values.get(name) is not None:
                return values[name]
        return None

    def __call__(self) -> dict[str, Any]:
        explicit = self._setting("secrets_file")
        path = (Path(explicit) if explicit else
                Path(self._setting("data_dir") or "var") / SECRETS_FILE_NAME)
        doc = load_secrets(path, force=True)
        return {name: getattr(doc, name) for name in ("alphavantage_api_key", "smtp_password")
                if getattr(doc, name) is not None}


class SecretsSettings(BaseSettings):
    """Where the secrets file is, and the sources order that ranks it above the environment."""

    model_config = SettingsConfigDict(env_prefix="MCP_TRADING_", env_file=".env", extra="ignore",
                                      frozen=True)

    secrets_file: Path | None = Field(
        None, description="The secrets file (JSON, mode 0600, replaced by rename): JWT keys, "
                          "database and Redis logins, the Alpha Vantage key, the SMTP password. "
                          "Default <data_dir>/secrets.json. Its values win over the "
                          "environment; `mcp-trading secrets rotate` rewrites it.")

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        lower = (env_settings, dotenv_settings)
        return (init_settings, _SecretsFileSource(settings_cls, init_settings, lower),
                env_settings, dotenv_settings, file_secret_settings)

    @property
    def resolved_secrets_file(self) -> Path:
        data_dir = getattr(self, "data_dir", Path("var"))
        return self.secrets_file if self.secrets_file is not None else data_dir / SECRETS_FILE_NAME

    def secrets(self, *, force: bool = False) -> SecretsDoc:
        """The secrets file's content as this process last read it (re-read if it changed)."""
        return load_secrets(self.resolved_secrets_file, force=force)
