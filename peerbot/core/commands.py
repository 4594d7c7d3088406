"""The command list both front-ends show in their help, so the help text never drifts apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandHelp:
    usage: str
    summary: str


# Every command of every capability, in the order /help shows them. A capability adds its lines here,
# so Discord's /help and the terminal's /help can never disagree.
COMMANDS: tuple[CommandHelp, ...] = (
    CommandHelp("/ask <question>", "Answer a question about the PLP lessons, citing its source."),
    CommandHelp("/topics [consortium]", "List what I can answer, by consortium (e.g. /topics rrr)."),
    CommandHelp("/help", "Show this list."),
)

INTRO = (
    "I'm **PeerBot**, the peer-learning assistant of the OECD Global Action's Peer Learning "
    "Partnerships on the Social and Solidarity Economy. Ask me what the PLP consortia learned."
)


def help_lines() -> list[str]:
    """One line per command, for any front-end to print."""
    return [f"{command.usage} - {command.summary}" for command in COMMANDS]
