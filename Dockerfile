# One image for every process of tg-inviter; the command picks the process:
#   python -m bot | python -m webui_api | python -m workers | python -m sandbox
#   python -m alembic upgrade head   (the migrations, run once before the others start)
# Dependencies come from requirements/lock.txt, exact versions checked against their
# sha256 hashes (`make lock` refreshes it). See README, "Deploy with Docker Compose".

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
COPY requirements/lock.txt /tmp/lock.txt
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/lock.txt

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A user of its own without a login shell; it owns nothing in the image, so the code and
# the installed packages cannot be changed by the processes that run them.
RUN groupadd --system --gid 10001 tg-inviter \
    && useradd --system --uid 10001 --gid tg-inviter --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin tg-inviter
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini pyproject.toml ./
COPY core ./core
COPY db ./db
COPY gateway ./gateway
COPY bot ./bot
COPY webui_api ./webui_api
COPY workers ./workers
COPY sandbox ./sandbox
COPY migrations ./migrations
USER tg-inviter
# The API (API_PORT), the bot's webhook (WEBHOOK_PORT) and the sandbox (SANDBOX_PORT), as
# set in compose.yaml; each listens only where its *_HOST setting says.
EXPOSE 8080 8082 8081
CMD ["python", "-m", "webui_api"]
