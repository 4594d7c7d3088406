"""What PeerBot stores about a member, and erasing it: one place every feature reports to.

Each feature that keeps member data registers a step here, so /privacy and /forget cannot miss a
table that a later feature adds. The unanswered-question log (``peerbot.core.unanswered``) stores no
user id on purpose, so it has nothing to describe or erase and registers no step.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Describe = Callable[[int], Awaitable[list[str]]]  # member id -> human-readable lines
Erase = Callable[[int], Awaitable[int]]  # member id -> rows erased


class PrivacyError(RuntimeError):
    """Some steps failed; the others ran. ``failed`` names them, ``done`` holds what succeeded."""

    def __init__(self, message: str, failed: dict[str, BaseException], done: dict[str, object]) -> None:
        super().__init__(message)
        self.failed = failed
        self.done = done


@dataclass(frozen=True, slots=True)
class PrivacyStep:
    name: str
    describe: Describe
    erase: Erase


class PrivacyService:
    """Runs every registered feature's describe or erase step for one member, in registration order."""

    def __init__(self) -> None:
        self._steps: dict[str, PrivacyStep] = {}

    def register(self, name: str, describe: Describe, erase: Erase) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a privacy step needs a name members can read, e.g. 'introductions'")
        if name in self._steps:
            raise ValueError(f"a privacy step named '{name}' is already registered")
        self._steps[name] = PrivacyStep(name, describe, erase)

    @property
    def names(self) -> list[str]:
        return list(self._steps)

    async def describe(self, member_id: int) -> dict[str, list[str]]:
        """Everything PeerBot stores about the member, as lines per feature (empty list: nothing)."""
        found: dict[str, list[str]] = {}
        failed: dict[str, BaseException] = {}
        for step in self._steps.values():
            try:
                found[step.name] = list(await step.describe(member_id))
            except Exception as exc:  # one broken feature must not hide what the others store
                log.exception("Describing member data for %s failed", step.name)
                failed[step.name] = exc
        if failed:
            raise PrivacyError(
                f"Could not read your data in: {', '.join(failed)}. Please try again or tell an admin.",
                failed,
                dict(found),
            )
        return found

    async def forget(self, member_id: int) -> dict[str, int]:
        """Erase the member's data in every feature; returns the rows erased per feature.

        Every step runs even if an earlier one fails, so as much as possible is erased; then a
        :class:`PrivacyError` names the failed features.
        """
        erased: dict[str, int] = {}
        failed: dict[str, BaseException] = {}
        for step in self._steps.values():
            try:
                erased[step.name] = int(await step.erase(member_id))
            except Exception as exc:
                log.exception("Erasing member data for %s failed", step.name)
                failed[step.name] = exc
        if failed:
            done = ", ".join(f"{name} ({count})" for name, count in erased.items()) or "nothing"
            raise PrivacyError(
                f"Could not erase your data in: {', '.join(failed)}. Erased: {done}. "
                "Please try again or tell an admin.",
                failed,
                dict(erased),
            )
        log.info("Erased member data: %s", erased)
        return erased
