"""Redis: the ingest stream, the worker, the map aggregates and the push bridge."""
