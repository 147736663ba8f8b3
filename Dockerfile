# syntax=docker/dockerfile:1
#
# One image for every Relais process: `relais migrate`, `relais serve <service>`,
# `relais worker <service>`. compose.yaml and infra/kubernetes/ choose the command.
#
#   docker build -t relais:local .
#
# No secret is baked in: DATABASE_URL, AMQP_URL and the other settings come from the
# environment at run time.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtual environment with the pinned dependencies and the package ------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/relais
ENV PATH=/opt/relais/bin:$PATH

WORKDIR /src

# The pinned dependencies first, in their own layer, so that a change to the code alone
# does not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

# Then the package itself, without resolving anything again.
COPY . .
RUN pip install --no-deps . \
    && relais --help > /dev/null

# --- runtime: the virtual environment only, run by an unprivileged user -------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/relais/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RELAIS_HOST=0.0.0.0 \
    RELAIS_VAR_DIR=/var/lib/relais \
    RELAIS_LOG_FORMAT=json

# A fixed numeric id, so that Kubernetes can check `runAsNonRoot` and volumes can be
# prepared for it (fsGroup 10001).
RUN groupadd --system --gid 10001 relais \
    && useradd --system --uid 10001 --gid relais --no-create-home \
        --home-dir /var/lib/relais --shell /usr/sbin/nologin relais \
    && install -d -o relais -g relais -m 0750 /var/lib/relais

COPY --from=build /opt/relais /opt/relais

USER 10001:10001
WORKDIR /var/lib/relais

# gateway (RELAIS_PORT), then consent, record, alerts, audit (RELAIS_SERVICE_PORT_BASE + 1..4).
EXPOSE 8000 8101 8102 8103 8104

ENTRYPOINT ["relais"]
CMD ["--help"]
