# The review service's image: tesseract with chi_sim, CJK fonts, and the OCR models inside the
# rapidocr wheel, so it works with no network.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY intake intake
COPY samples samples
COPY storage storage
COPY api api
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-chi-sim fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 dossier
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH DOSSIER_DATA_DIR=/data OMP_THREAD_LIMIT=1
USER dossier
WORKDIR /home/dossier
VOLUME /data
ENTRYPOINT ["dossier"]
CMD ["demo", "--out", "/data/demo"]
