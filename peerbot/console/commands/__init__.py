"""Terminal chat commands, one module per capability (the console's cogs).

Each module defines ``register(chat)``; every module in this package is registered at start, so a
new capability adds a file here and touches nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat


def register_all(chat: ConsoleChat) -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        module.register(chat)
