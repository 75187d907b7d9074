"""Request and response schemas (``XCreate`` / ``XPublic``), separate from the storage models."""
