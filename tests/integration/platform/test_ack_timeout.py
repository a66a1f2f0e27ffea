"""An acknowledgement the journal does not confirm in time is answered as unavailable."""

from __future__ import annotations

import asyncio
import time

import pytest

from mcp_trading.platform.platform import Platform, PlatformUnavailableError


def test_an_unconfirmed_acknowledgement_times_out_and_a_confirmed_one_does_not(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = platform.kernel_runtime.journal
    confirm = journal.durable

    async def scenario() -> float:
        await platform.durable(0.5)  # nothing pending: at once
        monkeypatch.setattr(journal, "durable",
                            lambda seq: asyncio.get_running_loop().create_future())
        started = time.monotonic()
        with pytest.raises(PlatformUnavailableError, match=r"did not confirm within 0\.2 s"):
            await platform.durable(0.2)
        waited = time.monotonic() - started
        monkeypatch.setattr(journal, "durable", confirm)
        await platform.durable(0.2)
        return waited

    waited = asyncio.run(scenario())
    assert 0.15 < waited < 2.0
