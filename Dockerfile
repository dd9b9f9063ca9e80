FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libsndfile1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY datasets ./datasets
COPY benchmarks ./benchmarks
RUN pip install --no-cache-dir .
RUN useradd --create-home heldout
USER heldout
ENV HELDOUT_DATA_DIR=/home/heldout/data
EXPOSE 8000
CMD ["heldout", "serve", "--host", "0.0.0.0", "--port", "8000"]
