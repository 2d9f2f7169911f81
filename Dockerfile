# syntax=docker/dockerfile:1
# One image for every LessonBridge service (api, search, transcoder, migrate); docker-compose.yml
# gives each its command. See infra/compose/README.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    LB_DATA_DIR=/var/lib/lessonbridge

# System packages, all for the transcoder; they live in the shared image because one image is
# simpler than one per service (api and search only pay the disk space):
# - ffmpeg: ffmpeg/ffprobe, which ffmpeg-python runs for probing and video transcoding.
# - libreoffice-*-nogui: headless `soffice --convert-to pdf` for the documents queue (Word,
#   PowerPoint, Excel lessons); the -nogui builds leave out X11/GTK.
# - fonts-noto-cjk: without CJK fonts LibreOffice renders Chinese text as empty boxes.
# - bubblewrap: converters run without network, secrets or write access (docs/security.md); in a
#   container it needs user namespaces allowed (else the other limits still apply, and it is logged).
# Versions come from the bookworm archive (security updates included), so they are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ffmpeg \
        libreoffice-writer-nogui \
        libreoffice-calc-nogui \
        libreoffice-impress-nogui \
        fonts-noto-cjk \
        bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# The backup service's `lb backup` runs pg_dump/pg_restore; bookworm's client is 15, the
# version of the compose file's postgres server (pg_dump must be at least the server's).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user. Its home holds LibreOffice's profile; LB_DATA_DIR is created here so
# that a named volume mounted over it starts out owned by this user.
RUN groupadd --system --gid 10001 lessonbridge \
    && useradd --system --uid 10001 --gid lessonbridge --create-home --home-dir /home/lessonbridge \
        --shell /usr/sbin/nologin lessonbridge \
    && install -d -o lessonbridge -g lessonbridge -m 0750 /var/lib/lessonbridge

# Where the backup service keeps its backups: a named volume mounted here starts out owned by
# the unprivileged user too.
RUN install -d -o lessonbridge -g lessonbridge -m 0750 /var/backups/lessonbridge

WORKDIR /tmp/lessonbridge-src
COPY pyproject.toml constraints.txt ./
# Dependencies first, in their own layer, so a code change does not reinstall them. They are
# read from pyproject.toml and pinned by constraints.txt, exactly as the next step installs them.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install -c constraints.txt -r requirements.txt

COPY services ./services
# A regular (non-editable) install into site-packages, owned by root; the source copy goes.
# No PIP_CONSTRAINT here: it would also constrain the build backend's own dependencies.
RUN pip install -c constraints.txt . \
    && rm -rf /tmp/lessonbridge-src

# An empty, root-owned working directory: uvicorn and celery put the working directory on
# sys.path, so it must hold no code and must not be writable by the service.
WORKDIR /app
USER 10001:10001

EXPOSE 8000 8001 8002
CMD ["uvicorn", "--factory", "services.api.app:create_app_from_env", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
