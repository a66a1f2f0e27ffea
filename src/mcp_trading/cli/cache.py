"""`mcp-trading cache clear`: empty the platform's caches in Redis, and nothing else there.

The runbook's "clear caches" step was `redis-cli FLUSHALL`, which also wipes the event bus
and anything else sharing the server. This verb deletes only keys under the cache prefix
(`Cache.clear`: SCAN MATCH + UNLINK).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mcp_trading.config import Settings

__all__ = ["cache_app", "clear"]

cache_app = typer.Typer(help="The platform's caches in Redis (only its own key prefix).",
                        no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

# A copy of adapters.cache.CACHE_PREFIX: importing that module loads redis, and the CLI must
# start fast. tests/integration/test_cli_cache.py pins the two equal.
DEFAULT_PREFIX = "mcp-trading:cache:"

_NO_URL = ("no Redis URL: set REDIS_URL (or MCP_TRADING_REDIS_URL) or pass --redis-url. "
           "Without Redis the platform runs embedded and keeps its caches in memory, inside "
           "its own process: there is nothing to clear here (restarting the platform empties "
           "them).")


def _fail(code: int, message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def _confirmed(question: str) -> bool:
    """Ask on stderr (so --json keeps stdout parseable); no answer (EOF, Ctrl-C) is a no."""
    try:
        return typer.confirm(question, err=True)
    except typer.Abort:
        errors.print()
        return False


@cache_app.command("clear")
def clear(
    *,
    redis_url: Annotated[str | None, typer.Option(
        "--redis-url", envvar=["REDIS_URL", "MCP_TRADING_REDIS_URL"], show_default=False,
        show_envvar=True, help="The platform's Redis, redis://[:password@]host:port/db.")] = None,
    prefix: Annotated[str | None, typer.Option(
        "--prefix", show_default=False,
        help="Delete only keys that start with this (default: the platform's Redis prefix "
             "+ 'cache:', i.e. 'mcp-trading:cache:').")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Delete every cache key under the prefix (never FLUSHALL); print how many were deleted."""
    settings = Settings()
    redis_url = redis_url or settings.redis_url  # .env too
    if prefix is None:
        prefix = settings.redis_prefix + "cache:"  # = distributed.serve.cache_prefix (no import:
        # that module loads the platform)
    if not redis_url:
        raise _fail(2, _NO_URL)
    if not prefix:
        raise _fail(2, "--prefix was empty; that would delete the whole database. Pass the "
                       f"cache prefix (default {DEFAULT_PREFIX!r}).")

    # redis loads only now that a verb needs it
    from mcp_trading.adapters.bus.connection import REDIS_SCHEMES, redact_url
    from mcp_trading.adapters.cache import CacheError, open_cache

    shown = redact_url(redis_url)
    if not redis_url.startswith(REDIS_SCHEMES):  # memory:// lives inside the platform process
        raise _fail(2, f"--redis-url was {shown!r}; use redis://host:port/db or rediss://… "
                       "(an in-memory cache cannot be cleared from outside its process)")

    from mcp_trading.adapters.bus.connection import RedisOptions
    from mcp_trading.security.logins import redis_credentials

    # the platform's own Redis: log in as the secrets file says (a rotated ACL user)
    options = (RedisOptions(credentials=redis_credentials(settings))
               if redis_url == settings.redis_url else None)
    cache = open_cache(redis_url, prefix=prefix, options=options)
    try:
        cache.ping()  # an unreachable server fails here, before the operator is asked anything
        if not yes and not _confirmed(f"Delete every key under {prefix!r} on {shown}?"):
            raise _fail(1, "nothing deleted (not confirmed; pass --yes to skip the question)")
        deleted = cache.clear()
    except CacheError as exc:  # its message names the server with the password redacted
        raise _fail(1, str(exc)) from None
    finally:
        cache.close()

    if as_json:
        print(json.dumps({"deleted": deleted, "prefix": prefix, "redis": shown}))
        return
    noun = "key" if deleted == 1 else "keys"
    console.print(f"deleted {deleted} {noun} under {escape(repr(prefix))} on {escape(shown)}",
                  highlight=False, soft_wrap=True)
