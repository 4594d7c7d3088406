"""The ``peerbot`` command as users and scripts run it: a real process, pipes and a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peerbot.core.commands import INTRO
from tests.conftest import write_knowledge
from tests.db_faults import corrupt_database


def peerbot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEERBOT_", "DISCORD_"))}
    env["PEERBOT_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peerbot", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_token_starts_terminal_chat_on_bundled_knowledge(tmp_path: Path) -> None:
    done = run([], peerbot_env(tmp_path), stdin="What does RRR stand for?\n/quit\n")
    assert done.returncode == 0, done.stderr
    assert "answers loaded" in done.stdout
    assert "Respond, Rebuild, Reinvent" in done.stdout
    assert (tmp_path / "data" / "peerbot.sqlite3").is_file()


def test_ask_prints_answer_and_source(tmp_path: Path, sample_dir: Path) -> None:
    env = peerbot_env(tmp_path, PEERBOT_KNOWLEDGE_DIR=str(sample_dir))
    done = run(["ask", "what", "are", "the", "SDGs"], env)
    assert done.returncode == 0
    assert (
        "Sustainable Development Goals" in done.stdout and "Source: French Impact: PLP topic" in done.stdout
    )
    declined = run(["ask", "best pizza in Naples"], env)
    assert declined.returncode == 1 and "I don't have an answer" in declined.stdout


def test_ask_json_lines_format(tmp_path: Path, sample_dir: Path) -> None:
    env = peerbot_env(tmp_path, PEERBOT_KNOWLEDGE_DIR=str(sample_dir))
    done = run(["ask", "--json"], env, stdin="What are the SDGs?\n\nasdkjh qwpoe\n")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [record["q"] for record in records] == ["What are the SDGs?", "asdkjh qwpoe"]
    first, second = records
    assert set(first) == {"q", "answers", "declined"} and first["declined"] is False
    assert first["answers"][0]["id"] == "glossary-sdgs"
    assert set(first["answers"][0]) == {"id", "title", "text", "score"}
    assert 1 <= len(first["answers"]) <= 5
    assert second == {"q": "asdkjh qwpoe", "answers": [], "declined": True}
    assert not (tmp_path / "data").exists()  # scripted checks leave no trace in the gap log


def test_kb_validate(tmp_path: Path, sample_dir: Path) -> None:
    ok = run(["kb", "validate", str(sample_dir)], peerbot_env(tmp_path))
    assert ok.returncode == 0 and "OK: 3 entries" in ok.stdout
    write_knowledge(sample_dir, "entries:\n  - id: Bad Id\n", "broken.yaml")
    bad = run(["kb", "validate", str(sample_dir)], peerbot_env(tmp_path))
    assert bad.returncode == 1
    assert "broken.yaml:2 [Bad Id]: missing field 'title'" in bad.stdout
    assert "problem(s) found" in bad.stderr


def test_broken_knowledge_stops_start_with_the_problems(tmp_path: Path) -> None:
    directory = tmp_path / "kb"
    write_knowledge(directory, "entries: [")
    done = run(["console"], peerbot_env(tmp_path, PEERBOT_KNOWLEDGE_DIR=str(directory)), stdin="/quit\n")
    assert done.returncode == 1
    assert "YAML syntax error" in done.stderr and "Traceback" not in done.stderr


def test_unusable_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data" / "peerbot.sqlite3").mkdir(parents=True)
    done = run(["console"], peerbot_env(tmp_path), stdin="/quit\n")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"peerbot: cannot open the database: {tmp_path}/data/peerbot.sqlite3 is not a file"
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PEERBOT_GUILD_ID": "abc"}, "PEERBOT_GUILD_ID must be a server id"),
        ({"PEERBOT_LOG_LEVEL": "LOUD"}, "PEERBOT_LOG_LEVEL must be"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    done = run([], peerbot_env(tmp_path, **env))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_run_without_token_says_how(tmp_path: Path) -> None:
    done = run(["run"], peerbot_env(tmp_path))
    assert done.returncode == 2 and "DISCORD_TOKEN is not set" in done.stderr


def test_terminal_chat_in_a_pseudo_terminal(tmp_path: Path) -> None:
    """With a real terminal the chat shows a prompt and answers as typed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "peerbot"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=peerbot_env(tmp_path),
        close_fds=True,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 20.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
        assert marker in seen, seen.decode(errors="replace")[-2000:]

    try:
        read_until(b"you> ")
        os.write(leader, b"what is the RRR project?\n")
        read_until(b"9 cities")
        os.write(leader, b"/quit\n")
        read_until(b"Goodbye!")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)


def test_a_second_terminal_chat_on_the_same_data_directory_exits_naming_the_first(tmp_path: Path) -> None:
    """Two processes on one database would both deliver each reminder: the second one stops at once."""
    env = peerbot_env(tmp_path)
    first = subprocess.Popen(
        [sys.executable, "-m", "peerbot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert first.stdout is not None and first.stdin is not None
        greeting = "".join(first.stdout.readline() for _ in range(INTRO.count("\n") + 2))
        assert "answers loaded" in greeting  # it is serving, so it holds the lock
        second = run(["console"], env, stdin="/quit\n")
        assert second.returncode == 1
        (line,) = second.stderr.strip().splitlines()
        assert line.startswith("peerbot: ") and f"pid {first.pid}" in line
        assert "answers loaded" not in second.stdout
        first.stdin.write("/quit\n")
        first.stdin.close()
        assert first.wait(timeout=20) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    after = run(["console"], env, stdin="/quit\n")  # released with the first process
    assert after.returncode == 0 and "answers loaded" in after.stdout


def test_a_damaged_database_stops_start_in_one_line_and_is_left_alone(tmp_path: Path) -> None:
    """A corrupt inner page used to pass the start and fail later inside a command."""
    path = tmp_path / "data" / "peerbot.sqlite3"
    damaged = corrupt_database(path)
    done = run(["console"], peerbot_env(tmp_path), stdin="/quit\n")
    assert done.returncode == 1 and "answers loaded" not in done.stdout
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"peerbot: the database {path} is damaged (") and "backup" in line
    assert path.read_bytes() == damaged


def test_an_empty_database_file_is_said_and_started_fresh(tmp_path: Path) -> None:
    path = tmp_path / "data" / "peerbot.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"")
    done = run(["console"], peerbot_env(tmp_path), stdin="/quit\n")
    assert done.returncode == 0 and "answers loaded" in done.stdout
    assert "WARNING" in done.stderr and f"{path} is empty (0 bytes)" in done.stderr
    assert path.stat().st_size > 0


def test_broken_knowledge_says_so_in_its_first_line_then_lists_the_problems(tmp_path: Path) -> None:
    directory = tmp_path / "kb"
    write_knowledge(directory, "entries:\n  - id: Bad Id\n    title: x\n  - id: two\n", "broken.yaml")
    done = run(["console"], peerbot_env(tmp_path, PEERBOT_KNOWLEDGE_DIR=str(directory)), stdin="/quit\n")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    first, *rest = done.stderr.strip().splitlines()
    assert first.startswith("peerbot: ") and f"the knowledge base in {directory} has" in first
    assert first.endswith("problem(s); peerbot kb validate lists them too:")
    assert len(rest) >= 2 and all(line.startswith("  broken.yaml:") for line in rest)
    assert f"has {len(rest)} problem(s)" in first
