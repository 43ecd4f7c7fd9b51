"""Component trees only: no callbacks, no I/O."""
