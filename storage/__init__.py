"""SQL storage: models, engine set-up, migrations and repositories."""
