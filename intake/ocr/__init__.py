"""Text engines: the PDF text layer, tesseract and RapidOCR, each behind its own wrapper."""
