"""The one source of "now": every store, the scheduler and both front-ends ask an injected clock.

Tests pass a fixed or fake clock instead of reading the machine's, so nothing depends on today's date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, aware and in UTC."""
    return datetime.now(UTC)
