"""Process wiring: embedded services, start-up of the data, and the all-in-one runner."""
