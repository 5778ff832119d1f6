# The phasegate image: the worker (`worker`, the default) and the REST API with the dashboard
# (`api`). Used by docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PHASEGATE_DATA_DIR=/var/lib/phasegate

WORKDIR /src
COPY pyproject.toml README.md worker.py ./
COPY governance ./governance
COPY states ./states
COPY workflows ./workflows
COPY activities ./activities
COPY ledger ./ledger
COPY phasegate ./phasegate
RUN pip install . \
    && useradd --system --create-home --home-dir /var/lib/phasegate phasegate

USER phasegate
WORKDIR /var/lib/phasegate
EXPOSE 8080
ENTRYPOINT ["phasegate"]
CMD ["worker"]
