"""The web service (FastAPI) for the secretariat, reviewers and recommending units: built in its own issue."""
