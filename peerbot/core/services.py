"""The core services, opened once and shared by whichever front-end runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from peerbot.core.clock import Clock, utc_now
from peerbot.core.events import EventSettings, EventStore
from peerbot.core.feedback import AnswerFeedback
from peerbot.core.gaps import KnowledgeGaps
from peerbot.core.guild_settings import GuildSettingsStore
from peerbot.core.intros import IntroStore
from peerbot.core.knowledge_audit import KnowledgeAudit
from peerbot.core.knowledge_editor import KnowledgeEditor
from peerbot.core.knowledge_files import seed_from_bundled
from peerbot.core.library import KnowledgeLibrary
from peerbot.core.privacy import PrivacyService
from peerbot.core.qa import QuestionService
from peerbot.core.storage import Database
from peerbot.core.unanswered import UnansweredLog

log = logging.getLogger(__name__)


@dataclass
class Services:
    library: KnowledgeLibrary
    questions: QuestionService
    database: Database
    unanswered: UnansweredLog
    guild_settings: GuildSettingsStore
    intros: IntroStore
    privacy: PrivacyService
    editor: KnowledgeEditor
    feedback: AnswerFeedback
    gaps: KnowledgeGaps
    events: EventStore
    clock: Clock = utc_now  # every front-end asks this for "now", so tests can move time

    @classmethod
    async def open(
        cls,
        knowledge_dir: Path,
        database_path: Path,
        *,
        event_settings: EventSettings | None = None,
        clock: Clock = utc_now,
    ) -> Services:
        """Load the knowledge (raising KnowledgeError) and open the database (raising DatabaseError)."""
        seed_from_bundled(knowledge_dir)
        library = KnowledgeLibrary(knowledge_dir)
        database = await Database.open(database_path)
        unanswered = UnansweredLog(database, clock=clock)
        feedback = AnswerFeedback(database, library, clock=clock)
        questions = QuestionService(library, on_unanswered=unanswered.record, on_answered=feedback.served)
        privacy = PrivacyService()
        intros = IntroStore(database, clock=clock)
        intros.register_privacy(privacy)  # every store of member data registers its erase step here
        audit = KnowledgeAudit(database, clock=clock)
        audit.register_privacy(privacy)  # editors' ids in the knowledge history: anonymised on erase
        feedback.register_privacy(privacy)  # Helpful / Not helpful votes
        events = EventStore(database, event_settings, clock=clock)
        events.register_privacy(privacy)
        return cls(
            library=library,
            questions=questions,
            database=database,
            unanswered=unanswered,
            guild_settings=GuildSettingsStore(database, clock=clock),
            intros=intros,
            privacy=privacy,
            editor=KnowledgeEditor(library, database, audit),
            feedback=feedback,
            gaps=KnowledgeGaps(unanswered),
            events=events,
            clock=clock,
        )

    async def close(self) -> None:
        await self.database.close()
