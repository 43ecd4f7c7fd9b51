"""Pure Gridwatch concepts: events, map levels, KPIs, strings. No I/O, no framework."""
