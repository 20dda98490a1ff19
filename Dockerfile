# upwatch's image: what Railway's Dockerfile builder (or `docker build .`) runs. It carries
# everything the container needs, so nothing depends on a Railway config file being read.
#
# Two stages: the first builds the wheel and installs it with its dependencies into /opt/venv; the
# second copies only that venv onto a clean slim Python, so the image has no build tools, no pip
# cache and no source tree. Debian release pinned: the entrypoint relies on util-linux's setpriv.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/ src/
COPY migrations/ migrations/
COPY templates/ templates/
# The venv is made without pip and filled by the base image's pip (`--python`): the final image
# ships upwatch and its dependencies only, with the `apprise` extra so the apprise channel works.
# migrations/ and templates/ travel inside the wheel.
RUN pip wheel --no-deps --wheel-dir /tmp/dist . \
    && python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install "$(echo /tmp/dist/upwatch-*.whl)[apprise]"

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/upwatch.db
# SQLite lives under /data: attach a volume there to keep it across deploys, or point DATABASE_URL
# at PostgreSQL. No VOLUME instruction (Railway rejects it); the folder is made and owned instead.
RUN groupadd --system --gid 10001 upwatch \
    && useradd --system --uid 10001 --gid upwatch --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin upwatch \
    && mkdir /data \
    && chown upwatch:upwatch /data
COPY --from=build /opt/venv /opt/venv
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /app
COPY monitors.yaml ./
# Numeric, so a runtime can tell it is not root without reading /etc/passwd (10001 = upwatch).
USER 10001:10001
# A malformed monitors.yaml fails the build, so the running deployment stays. --no-env: runtime
# secrets are not set at build time; `upwatch run` checks them again at start.
RUN ["upwatch", "check", "--no-env"]
EXPOSE 8080
# Python's urllib, not curl: the slim image has no curl. 503 until ready, then 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["upwatch", "run"]
