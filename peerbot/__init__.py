"""PeerBot: a peer-learning chatbot for the PLPs on the Social and Solidarity Economy."""

__version__ = "0.1.0"
