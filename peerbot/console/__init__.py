"""The terminal chat front-end."""
