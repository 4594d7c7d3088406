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
    CommandHelp("/helpful <id>, /unhelpful <id>", "Rate an answer (in Discord: the buttons under it)."),
    CommandHelp("/kb add, /kb edit <id>, /kb remove <id>", "Editors: change the knowledge base."),
    CommandHelp("/kb show <id>, /kb history <id>", "Editors: an entry with its version, and its changes."),
    CommandHelp("/kb restore <id> [version]", "Editors: undo a change or a removal."),
    CommandHelp("/kb reload, /kb export", "Editors: re-read the files; download them."),
    CommandHelp("/kb gaps, /kb stats", "Editors: unanswered questions; answers that help."),
    CommandHelp("/intro create, /intro edit", "Introduce yourself (a private preview comes before posting)."),
    CommandHelp("/intro show [member], /intro delete", "See an introduction; delete yours (asks first)."),
    CommandHelp("/peers search [topic] [country] [consortium]", "Find peers, best first."),
    CommandHelp("/peers match", "Three members whose topics overlap yours most."),
    CommandHelp("/privacy show, /privacy forget-me", "What PeerBot stores about you; erase it all."),
    CommandHelp("/setup [option value]", "Editors: this server's settings (no option: show them)."),
    CommandHelp("/events list, /events show <id>", "Upcoming thematic events; one event with its RSVPs."),
    CommandHelp("/events ics <id>", "The event as a calendar file (.ics) to import in your calendar."),
    CommandHelp("/rsvp <id> going|interested|not-going", "Answer an event (in Discord: its buttons)."),
    CommandHelp("/event create, /event edit <id>", "Editors: announce an event, or change it."),
    CommandHelp("/event cancel <id> [series]", "Editors: cancel the next occurrence, or the whole series."),
    CommandHelp("/help", "Show this list."),
)

INTRO = (
    "I'm **PeerBot**, the peer-learning assistant of the OECD Global Action's Peer Learning "
    "Partnerships on the Social and Solidarity Economy. Ask me what the PLP consortia learned."
)


def help_lines() -> list[str]:
    """One line per command, for any front-end to print."""
    return [f"{command.usage} - {command.summary}" for command in COMMANDS]
