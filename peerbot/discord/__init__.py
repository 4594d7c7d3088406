"""The discord.py front-end: bot setup, cogs, views."""
