"""Log redaction: API keys (their id stays), bearer credentials, JWTs and URL key parameters
masked in free text."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

from mcp_trading.security.keys import KEY_PREFIX

__all__ = ["redact", "redact_event"]

_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s,;\"']+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_KEY = re.compile(r"mcpt_(?:([A-Za-z0-9]{12})_)?[A-Za-z0-9_-]*")
_APIKEY_PARAM = re.compile(r"(?i)\b(api_?key=)[^&\s\"']+")  # a provider's key in a URL


def redact(text: str) -> str:
    """Mask bearer credentials, our API keys (the id stays), JWTs and `apikey=` URL
    parameters in free text."""
    text = _BEARER.sub(r"\1***", text)
    text = _APIKEY_PARAM.sub(r"\1***", text)
    text = _JWT.sub("eyJ***", text)
    return _KEY.sub(lambda m: f"{KEY_PREFIX}{m[1]}_***" if m[1] else f"{KEY_PREFIX}***", text)


def redact_event(_logger: object, _method: str,
                 event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor applying `redact` to every string value of an event."""
    for name, value in event_dict.items():
        if isinstance(value, str):
            event_dict[name] = redact(value)
    return event_dict
