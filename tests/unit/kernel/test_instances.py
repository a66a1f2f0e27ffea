"""Strategy instances are journaled kernel facts: started and stopped by the single writer,
recovered by replaying the journal and from a snapshot (format 2 without them still loads)."""

from __future__ import annotations

import msgspec
import pytest
from tests.unit.conftest import instruments

from mcp_trading.adapters.calendars import AlwaysOpen
from mcp_trading.adapters.store import MemoryJournalStore, open_store
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.errors import ConflictError, InvalidError, NotFoundError, UnknownSymbolError
from mcp_trading.domain.instances import InstanceStatus
from mcp_trading.kernel import snapshot
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.kernel.ports import JournalStore, Snapshot
from mcp_trading.kernel.runtime import KernelRuntime, recover


def _runtime(store: JournalStore | str, *, use_snapshot: bool = True) -> KernelRuntime:
    """A kernel recovered from `store` (a URL: a new connection, as a restarted process)."""
    if isinstance(store, str):
        store = open_store(store, migrate=True)
    return recover(store, instruments=instruments(), clock=ManualClock(), calendar=AlwaysOpen(),
                   config=KernelConfig(id_base=1), snapshot_every=0, use_snapshot=use_snapshot)


def _start(runtime: KernelRuntime, instance_id: str) -> None:
    runtime.kernel.start_instance(strategy="sma_crossover", params='{"fast": 3, "slow": 5}',
                                  account_id="paper", symbols=("AAPL", "MSFT"),
                                  timeframe="1Day", started_by="key:k1",
                                  instance_id=instance_id)


def _views(runtime: KernelRuntime) -> dict[str, tuple[object, ...]]:
    return {i.id: (i.strategy, i.params, i.account_id, i.symbols, i.timeframe, i.started_by,
                   i.started_at, i.status, i.stop_reason, i.stopped_by)
            for i in runtime.kernel.state.instances.values()}


def _busy(store: str) -> dict[str, tuple[object, ...]]:
    runtime = _runtime(store)
    _start(runtime, "si-a")
    _start(runtime, "si-b")
    runtime.kernel.stop_instance("si-b", reason="stopped by key:k1", actor="key:k1")
    runtime.journal.flush()
    views = _views(runtime)
    runtime.close()
    return views


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'journal.db'}"


def test_instances_survive_a_restart_by_journal_replay(url: str) -> None:
    store = url
    before = _busy(store)
    after = _runtime(store, use_snapshot=False)
    assert _views(after) == before
    assert after.kernel.state.instances["si-a"].status == InstanceStatus.RUNNING
    assert after.kernel.state.instances["si-b"].status == InstanceStatus.STOPPED
    assert after.kernel.state.instances["si-a"].symbols == ("AAPL", "MSFT")


def test_instances_survive_a_restart_from_a_snapshot(url: str) -> None:
    store = url
    before = _busy(store)
    runtime = _runtime(store)
    runtime.journal.save_snapshot(snapshot.dump(runtime.kernel.state))
    runtime.close()
    again = _runtime(store)
    assert again.report.snapshot_seq > 0 and again.report.replayed == 0
    assert _views(again) == before


def test_a_format_2_snapshot_without_instances_still_loads(url: str) -> None:
    store = url
    _busy(store)
    runtime = _runtime(store)
    payload = msgspec.msgpack.decode(snapshot.dump(runtime.kernel.state).payload)
    del payload["instances"]  # as a snapshot of the version before instances wrote it
    old = Snapshot(runtime.kernel.seq, msgspec.msgpack.encode(payload))
    state = snapshot.load(old, instruments(), KernelConfig().slippage)
    assert state.instances == {}
    assert state.seq == runtime.kernel.seq


def test_start_refuses_what_the_kernel_knows_is_wrong_and_journals_nothing() -> None:
    runtime = _runtime(MemoryJournalStore())
    kernel = runtime.kernel
    seq = kernel.seq
    with pytest.raises(NotFoundError):
        kernel.start_instance(strategy="s", params="{}", account_id="nobody",
                              symbols=("AAPL",), timeframe="1Day", started_by="x")
    with pytest.raises(UnknownSymbolError):
        kernel.start_instance(strategy="s", params="{}", account_id="paper",
                              symbols=("NOPE",), timeframe="1Day", started_by="x")
    with pytest.raises(InvalidError, match="timeframe"):
        kernel.start_instance(strategy="s", params="{}", account_id="paper",
                              symbols=("AAPL",), timeframe="5Min", started_by="x")
    with pytest.raises(InvalidError, match="twice"):
        kernel.start_instance(strategy="s", params="{}", account_id="paper",
                              symbols=("AAPL", "AAPL"), timeframe="1Day", started_by="x")
    assert kernel.seq == seq
    _start(runtime, "si-a")
    with pytest.raises(ConflictError):
        _start(runtime, "si-a")
    kernel.stop_instance("si-a", reason="done", actor="ops")
    with pytest.raises(ConflictError, match="already stopped"):
        kernel.stop_instance("si-a", reason="again", actor="ops")
    with pytest.raises(NotFoundError):
        kernel.stop_instance("si-zz", reason="x", actor="ops")
