# Herald as a container: a slim Python base, the pinned dependencies of requirements.lock, a
# non-root user, the content, feeds and data folders as volumes, and a health check on /healthz.
# Configured entirely by environment variables (no config file needed); see README "Deployment".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 herald \
    && mkdir -p /content /feeds /data \
    && chown herald /feeds /data

USER herald
# the working folder is the data volume: with no channels file, the default outbox channel
# writes outbox.jsonl here
WORKDIR /data
ENV HERALD_CONTENT__DIR=/content \
    HERALD_FEEDS__DIR=/feeds \
    DATABASE_URL=sqlite:////data/herald.sqlite3 \
    HERALD_LOG_FORMAT=json \
    PORT=8080
VOLUME ["/content", "/feeds", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
CMD ["python", "-m", "bot", "run"]
