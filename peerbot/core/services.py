"""The core services, opened once and shared by whichever front-end runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from peerbot.core.bookkeeping import BackgroundWriter
from peerbot.core.card_posts import CardPostLog
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
    card_posts: CardPostLog  # cards being posted, reconciled by the Discord front-end at start
    clock: Clock = utc_now  # every front-end asks this for "now", so tests can move time
    # Answers served and unanswered questions, written after the reply in batches (flushed on close).
    bookkeeping: BackgroundWriter | None = None

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
        bookkeeping = BackgroundWriter(database)
        unanswered = UnansweredLog(database, clock=clock, writer=bookkeeping)
        feedback = AnswerFeedback(database, library, clock=clock, writer=bookkeeping)
        questions = QuestionService(library, on_unanswered=unanswered.record, on_answered=feedback.served)
        privacy = PrivacyService()
        intros = IntroStore(database, clock=clock)
        intros.register_privacy(privacy)  # every store of member data registers its erase step here
        card_posts = CardPostLog(database, clock=clock)
        card_posts.register_privacy(privacy)
        audit = KnowledgeAudit(database, clock=clock)
        audit.register_privacy(privacy)  # editors' ids in the knowledge history: anonymised on erase
        feedback.register_privacy(privacy)  # Helpful / Not helpful votes
        events = EventStore(database, event_settings, clock=clock)
        events.register_privacy(privacy)
        editor = KnowledgeEditor(library, database, audit)
        await editor.recover()  # a change killed between its file and its history is settled first
        return cls(
            library=library,
            questions=questions,
            database=database,
            unanswered=unanswered,
            guild_settings=GuildSettingsStore(database, clock=clock),
            intros=intros,
            privacy=privacy,
            editor=editor,
            feedback=feedback,
            gaps=KnowledgeGaps(unanswered),
            events=events,
            card_posts=card_posts,
            clock=clock,
            bookkeeping=bookkeeping,
        )

    async def close(self) -> None:
        if self.bookkeeping is not None:
            await self.bookkeeping.close()  # the last answers' counts, before the database goes
        await self.database.close()
