"""The core services, opened once and shared by whichever front-end runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from peerbot.core.library import KnowledgeLibrary
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

    @classmethod
    async def open(cls, knowledge_dir: Path, database_path: Path) -> Services:
        """Load the knowledge (raising KnowledgeError) and open the database (raising DatabaseError)."""
        library = KnowledgeLibrary(knowledge_dir)
        database = await Database.open(database_path)
        unanswered = UnansweredLog(database)
        questions = QuestionService(library, on_unanswered=unanswered.record)
        return cls(library, questions, database, unanswered)

    async def close(self) -> None:
        await self.database.close()
