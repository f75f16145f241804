# The towns image: the worker (default command) and the web console (`python -m towns.web`), and
# the `towns` CLI. docker-compose.yml builds it; see README.md, "Outgrowing one machine".

# -- build: wheels for towns and its dependencies (durable-rules compiles C++)
FROM python:3.11.13-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY towns ./towns
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# -- run: no compiler, not root
FROM python:3.11.13-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/towns --create-home towns
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY worker.py ./
ENV TOWNS_HOME=/var/lib/towns \
    PYTHONUNBUFFERED=1
USER towns
EXPOSE 8000
CMD ["python", "-m", "towns.worker"]
