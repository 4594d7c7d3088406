"""Shared fixtures: a small hand-written knowledge base for unit tests, and the bundled one."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peerbot.core.library import KnowledgeLibrary
from peerbot.core.qa import QuestionService
from peerbot.core.services import Services

REPO = Path(__file__).resolve().parents[1]
BUNDLED_KNOWLEDGE = REPO / "knowledge"

SAMPLE_YAML = textwrap.dedent(
    """\
    entries:
      - id: rrr-overview
        title: The Respond, Rebuild, Reinvent project
        consortium: UpSocial / RRR
        tags: [cities, covid-19]
        questions:
          - What is the RRR project?
          - Which cities take part in Respond Rebuild Reinvent?
          - ¿Qué es el proyecto RRR?
        answer: The RRR project offers 9 cities the opportunity to learn, share, and collaborate.
        source: "UpSocial / RRR: The Respond, Rebuild, Reinvent project"
        related: [glossary-sdgs]
      - id: glossary-sdgs
        title: SDGs
        consortium: General
        tags: [glossary, sdgs]
        questions:
          - What does SDGs stand for?
          - What are the SDGs?
          - Que sont les ODD ?
        answer: "The **Sustainable Development Goals**: a common language for impact measurement."
        source: "French Impact: PLP topic"
      - id: pl4se-drivers
        title: Key drivers of legal ecosystems
        consortium: CEPES / PL4SE
        tags: [legal frameworks, drivers]
        questions:
          - What are the key drivers of a legal ecosystem for social economy?
          - Which drivers did PL4SE find?
          - How does law support the social economy?
        answer: Legal definition, registration and certification, mainstreaming, consultative bodies.
        source: "CEPES / PL4SE: KEY DRIVERS"
    """
)


def write_knowledge(directory: Path, text: str, name: str = "sample.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "knowledge"
    write_knowledge(directory, SAMPLE_YAML)
    return directory


@pytest.fixture
def sample_service(sample_dir: Path) -> QuestionService:
    return QuestionService(KnowledgeLibrary(sample_dir))


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge: tests that edit entries never touch knowledge/."""
    directory = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE, directory)
    return directory


@pytest.fixture
async def bundled_services(tmp_path: Path, knowledge: Path) -> AsyncIterator[Services]:
    """Services over that copy and a fresh database."""
    opened = await Services.open(knowledge, tmp_path / "db.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
def bundled_library() -> KnowledgeLibrary:
    return KnowledgeLibrary(BUNDLED_KNOWLEDGE)
