# syntax=docker/dockerfile:1
# Multi-stage: wheels built from the hash-pinned lock (the same versions on every build), then a slim
# runtime image as a non-root user. Regenerate the lock with `make lock` after changing pyproject.toml.
FROM python:3.11-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CRIER_ENV=production CRIER_HOME=/app
RUN useradd --system --uid 10001 --home-dir /app crier
WORKDIR /app
COPY --from=build /wheels /wheels
# --no-deps --no-index: exactly the locked wheels, nothing resolved or fetched at this step.
RUN pip install --no-cache-dir --no-deps --no-index /wheels/*.whl && pip check && rm -rf /wheels
COPY alembic.ini ./
COPY migrations ./migrations
USER crier
EXPOSE 8000 9100
# The API's probe; docker-compose.yml gives the worker its own and turns it off for migrate.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["crier", "api", "--host", "0.0.0.0", "--port", "8000"]
