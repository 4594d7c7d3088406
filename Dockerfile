# PeerBot on Discord. Build: docker build -t peerbot .   Run: docker run -e DISCORD_TOKEN=... -v peerbot-data:/data peerbot
# Each step below was run by hand in a clean virtual environment (pip install . then peerbot kb validate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PEERBOT_DATA_DIR=/data \
    PEERBOT_KNOWLEDGE_DIR=/data/knowledge

RUN useradd --create-home --uid 10001 peerbot \
    && mkdir /data && chown peerbot:peerbot /data

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY peerbot ./peerbot
COPY knowledge ./knowledge
RUN pip install . && PEERBOT_KNOWLEDGE_DIR= peerbot kb validate

USER peerbot
VOLUME ["/data"]
CMD ["peerbot", "run"]
