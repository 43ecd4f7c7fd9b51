"""One module per panel, each with register(app, ctx); thin adapters over the domain."""
