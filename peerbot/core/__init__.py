"""The core: knowledge, retrieval and services. Nothing below here imports discord."""
