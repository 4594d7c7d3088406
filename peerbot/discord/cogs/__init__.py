"""One cog per capability; each is a thin adapter over a core service."""
