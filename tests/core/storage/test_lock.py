"""The data directory lock: one PeerBot per database, released however the holder ends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from peerbot.core.storage import DatabaseError
from peerbot.core.storage.lock import LOCK_NAME, DataDirLock, DataDirLocked


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    data = tmp_path / "data"  # created when missing, like the database's folder
    with DataDirLock(data):
        assert (data / LOCK_NAME).read_text().strip() == str(os.getpid())
        with pytest.raises(DataDirLocked) as refused:
            DataDirLock(data).acquire()  # flock is per open file: a second open conflicts in-process too
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message and str(data) in message and "\n" not in message
        assert isinstance(refused.value, DatabaseError)  # the CLI's one-line database error, exit 1
    with DataDirLock(data):  # released on exit
        pass


def test_a_leftover_lock_file_without_a_holder_does_not_block(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("999999\n")  # a holder that was killed: the kernel dropped its lock
    with DataDirLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_an_unusable_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(DataDirLocked, match="cannot lock the data directory"):
        DataDirLock(tmp_path / "file").acquire()
