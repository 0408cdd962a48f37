# The review service's image, for both processes of a deployment: `dossier serve` (the API and
# UI) and `dossier worker` (distributed mode's Celery worker). Tesseract with chi_sim, CJK fonts
# for the reports, and the RapidOCR models that ship inside the rapidocr wheel are all inside:
# nothing is fetched at run time. docker-compose.yml runs it.

# --- build: a virtual environment with the project and its dependencies --------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY intake intake
COPY samples samples
COPY storage storage
COPY api api
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install .

# --- run: the OCR tools and fonts, the environment, a user that is not root -----------------
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-chi-sim fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group dossier \
 && mkdir /data && chown dossier:dossier /data
COPY --from=build /opt/venv /opt/venv
# One page per process: tesseract's and ONNX Runtime's own threads would only contend.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OMP_THREAD_LIMIT=1 \
    DOSSIER_DATA_DIR=/data
# Fail the build, not the first review, when an engine or its models are missing.
RUN python -c "from intake.ocr import rapid, tesseract; print(tesseract.probe()); print(rapid.probe())"
USER dossier
WORKDIR /home/dossier
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["dossier"]
# Embedded mode by default (SQLite and files under /data); compose sets distributed mode.
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
