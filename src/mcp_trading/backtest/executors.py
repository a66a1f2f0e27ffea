"""Where a sweep's points run: in this process, a local process pool, or a Dask cluster.

Every executor maps a module-level function `fn(shared, item)` over items, where `shared`
(the bars and what every point needs) is sent to each worker once, not once per item:

- `SerialExecutor`: in this process (tests, one-point sweeps, `--executor serial`).
- `LocalExecutor` (the default, `--executor local[:N]`): `concurrent.futures`'
  ProcessPoolExecutor on the local cores. `shared` travels once per worker as the pool
  initializer's argument (pickled). Measured on this 2-core machine (loaded): a million
  1-minute bars, 7 float64/int64 columns = 56 MB, pickle in ~100 ms and unpickle in ~80 ms
  per worker; 10 years of daily bars x 4 symbols (0.6 MB) about 1 ms. Shared memory would
  save one copy per worker, not worth its lifetime handling at these sizes. A worker never
  re-reads the bars. The initializer raises the worker's niceness by `nice` (default +10), so the
  sweep's workers yield the CPU to the engine and the services, which run at the niceness
  they were started with.
- `DaskExecutor` (`--executor dask://HOST:PORT`): a `dask.distributed.Client` on that
  scheduler; `shared` is scattered to the workers once (`Client.scatter(..., broadcast=True)`)
  and each task receives it from the worker's memory — the workers never open a database or
  a file of this machine. Dask's own workers keep their own priority (they are the cluster's
  processes, not ours to renice). Needs the `cluster` extra (`pip install "mcp-trading[cluster]"`).

States of an executor: open → closed (`close()`, or leaving its `with` block; a closed
executor refuses work). `progress(done, total)` is called in this process after each item.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import as_completed as futures_completed
from typing import Any, Protocol, TypeVar

from mcp_trading.domain.errors import InvalidError, UnavailableError

__all__ = ["DEFAULT_NICE", "DaskExecutor", "Executor", "LocalExecutor", "Progress",
           "SerialExecutor", "open_executor"]

R = TypeVar("R")
Progress = Callable[[int, int], None]
#: how much a local sweep worker lowers its CPU priority (os.nice increment; 19 is the lowest)
DEFAULT_NICE = 10


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[Any, Any], R], items: Sequence[Any], shared: Any, *,
            progress: Progress | None = None) -> list[R]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _Base:
    name = "base"

    def __init__(self) -> None:
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise UnavailableError(f"the {self.name} executor is closed; open a new one")

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(_Base):
    """Every item in this process, in order."""

    name = "serial"

    def map(self, fn: Callable[[Any, Any], R], items: Sequence[Any], shared: Any, *,
            progress: Progress | None = None) -> list[R]:
        self._check_open()
        out = []
        for i, item in enumerate(items):
            out.append(fn(shared, item))
            if progress:
                progress(i + 1, len(items))
        return out


_WORKER_SHARED: list[Any] = []  # a local pool worker's copy of `shared` (set by _init)


def _init(nice: int, shared: Any) -> None:
    if nice:
        os.nice(nice)
    _WORKER_SHARED[:] = [shared]


def _call_chunk(fn: Callable[[Any, Any], Any], chunk: Sequence[Any]) -> list[Any]:
    return [fn(_WORKER_SHARED[0], item) for item in chunk]


class LocalExecutor(_Base):
    """A process pool on the local cores (module docstring). A pool is made per `map`, since
    its initializer carries that sweep's bars."""

    name = "local"

    def __init__(self, workers: int | None = None, *, nice: int = DEFAULT_NICE,
                 start_method: str | None = None) -> None:
        super().__init__()
        if workers is not None and workers < 1:
            raise InvalidError(f"workers is {workers}; give at least 1", field="executor")
        self.workers = workers or os.cpu_count() or 1
        self.nice = nice
        # fork where there is one: a worker inherits the imported platform. Measured (100 daily
        # points, 2 workers, this machine loaded): 1.3 s forked, 5.6 s spawned — each spawned
        # worker re-imports the platform (~2 s). A threaded caller (the :8090 service) passes
        # "forkserver", whose server imports once and then forks.
        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("fork" if "fork" in methods else methods[0])

    def map(self, fn: Callable[[Any, Any], R], items: Sequence[Any], shared: Any, *,
            progress: Progress | None = None) -> list[R]:
        self._check_open()
        if not items:
            return []
        # Chunks of a few points: one round trip per point cost ~1 ms of IPC, more than a
        # daily-bar point's own run; 4 chunks per worker keep the load balanced.
        size = max(1, len(items) // (self.workers * 4))
        chunks = [(start, items[start:start + size]) for start in range(0, len(items), size)]
        out: list[Any] = [None] * len(items)
        done = 0
        with ProcessPoolExecutor(max_workers=min(self.workers, len(chunks)), initializer=_init,
                                 initargs=(self.nice, shared),
                                 mp_context=multiprocessing.get_context(self.start_method)) as pool:
            futures = {pool.submit(_call_chunk, fn, chunk): start for start, chunk in chunks}
            for future in futures_completed(futures):
                start = futures[future]
                results = future.result()
                out[start:start + len(results)] = results
                done += len(results)
                if progress:
                    progress(done, len(items))
        return out


def _call_shared(fn: Callable[[Any, Any], Any], item: Any, shared: Any) -> Any:
    return fn(shared, item)


class DaskExecutor(_Base):
    """Points as Dask tasks on the scheduler at `address` (module docstring)."""

    name = "dask"

    def __init__(self, address: str | None = None, *, client: Any = None) -> None:
        super().__init__()
        try:
            from dask.distributed import Client as DaskClient
        except ImportError:
            raise UnavailableError("the Dask executor needs dask.distributed: pip install "
                                   '"mcp-trading[cluster]"') from None
        self._own = client is None
        if client is None:
            make: Callable[..., Any] = DaskClient  # untyped in dask
            try:
                client = make(address, timeout="10s")
            except OSError as exc:
                raise UnavailableError(f"no Dask scheduler answers at {address}: {exc}; start "
                                       "one (dask scheduler) or check --executor") from None
        self.client = client
        self.address = address or str(client.scheduler.address)

    def map(self, fn: Callable[[Any, Any], R], items: Sequence[Any], shared: Any, *,
            progress: Progress | None = None) -> list[R]:
        self._check_open()
        if not items:
            return []
        from dask.distributed import as_completed

        dask_completed: Callable[[list[Any]], Any] = as_completed  # untyped in dask

        handle = self.client.scatter(shared, broadcast=True, hash=False)
        futures = self.client.map(_call_shared, [fn] * len(items), list(items),
                                  shared=handle, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        out: list[Any] = [None] * len(items)
        for done, future in enumerate(dask_completed(futures), start=1):
            out[index[future.key]] = future.result()
            if progress:
                progress(done, len(items))
        return out

    def close(self) -> None:
        if not self._closed and self._own:
            self.client.close()
        super().close()


def open_executor(spec: str | None) -> Executor:
    """`None`/"local" (every core), "local:N", "serial" or "dask://HOST:PORT"."""
    text = (spec or "local").strip()
    if text == "serial":
        return SerialExecutor()
    if text == "local" or text.startswith("local:"):
        _, _, count = text.partition(":")
        if count and not count.isdigit():
            raise InvalidError(f"executor {text!r}: the worker count must be a whole number, "
                               "as in local:2", field="executor")
        return LocalExecutor(int(count) if count else None)
    if text.startswith("dask://"):
        address = text.removeprefix("dask://")
        if not address:
            raise InvalidError("executor dask:// needs HOST:PORT, as in dask://10.0.0.5:8786",
                               field="executor")
        return DaskExecutor(f"tcp://{address}")
    raise InvalidError(f"executor {text!r} is not one of local, local:N, serial, "
                       "dask://HOST:PORT", field="executor")
