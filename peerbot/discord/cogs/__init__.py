"""One cog per capability; each is a thin adapter over a core service.

Every module here is a discord.py extension (it defines ``async def setup(bot)``) and is loaded at
start, so a new capability adds a file here and touches nothing else.
"""

from __future__ import annotations

import pkgutil


def extension_names() -> list[str]:
    return [
        f"{__name__}.{info.name}" for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]
