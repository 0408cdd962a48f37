"""Object storage for originals and derived artefacts (local files and S3): built in its own issue."""
