"""One PeerBot per data directory: an exclusive lock on ``peerbot.lock`` held for the process's life.

Two processes on one database would both run the event scheduler and deliver every reminder twice,
and both would answer the same slash commands. The lock is ``flock`` on POSIX, so the kernel drops it
when the holder exits, however it exits (even SIGKILL): a stale lock file never blocks a restart. The
file holds the holder's pid so the second process can say whom to stop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from types import TracebackType

from peerbot.core.storage.database import DatabaseError

log = logging.getLogger(__name__)

LOCK_NAME = "peerbot.lock"
# Windows locks byte ranges and refuses to read a locked range, so the lock is on a byte far past the
# pid, which other processes can still read.
_WINDOWS_LOCK_OFFSET = 1 << 20


class DataDirLocked(DatabaseError):
    """Another PeerBot holds the data directory (or it cannot be locked); one line for the operator."""


class DataDirLock:
    """Hold the data directory for this process: ``with DataDirLock(path): ...``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`DataDirLocked` naming the pid that holds it."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # No O_TRUNC: the file is only rewritten once the lock is ours, so the holder's pid stays.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DataDirLocked(f"cannot lock the data directory {self.directory}: {exc.strerror}") from exc
        try:
            if not _try_lock(fd):
                holder = _read_pid(fd)
                raise DataDirLocked(
                    f"another PeerBot (pid {holder or 'unknown'}) is already using the data directory "
                    f"{self.directory}; stop it first, or give this one its own PEERBOT_DATA_DIR"
                )
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:  # e.g. a file system without locks
            os.close(fd)
            raise DataDirLocked(f"cannot lock the data directory {self.directory}: {exc.strerror}") from exc
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        log.debug("Locked %s for pid %d", self.path, os.getpid())

    def release(self) -> None:
        """Let another PeerBot start; the file stays (removing it would race with a new holder)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the lock

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    """True when the lock is now ours, False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    try:
        import fcntl
    except ImportError:  # a platform with neither: run unguarded rather than refuse to start
        log.warning("Cannot lock the data directory on this platform; run one PeerBot per directory")
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
