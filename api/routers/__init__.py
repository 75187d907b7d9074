"""One router per resource; ``api.main`` includes them all under ``/v1`` (health checks at the root)."""
