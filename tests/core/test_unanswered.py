from __future__ import annotations

from pathlib import Path

from peerbot.core.library import KnowledgeLibrary
from peerbot.core.qa import QuestionService
from peerbot.core.storage import Database
from peerbot.core.unanswered import MAX_LOGGED, UnansweredLog


async def test_declined_questions_are_logged_without_user(tmp_path: Path, sample_dir: Path) -> None:
    database = await Database.open(tmp_path / "db.sqlite3")
    try:
        log = UnansweredLog(database)
        service = QuestionService(KnowledgeLibrary(sample_dir), on_unanswered=log.record)
        await service.ask("What are the SDGs?")
        await service.ask("best pizza in Naples " + "y" * 900, guild_id=42)
        rows = await database.fetch_all("SELECT * FROM unanswered_question")
        assert len(rows) == 1
        assert rows[0]["guild_id"] == 42 and rows[0]["outcome"] == "declined"
        assert rows[0]["question"].startswith("best pizza") and len(rows[0]["question"]) == MAX_LOGGED
        assert "user_id" not in rows[0].keys()  # noqa: SIM118 - sqlite3.Row has no __contains__ by name
        assert await log.count() == 1
    finally:
        await database.close()
