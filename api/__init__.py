"""REST endpoints served by the Flask server beside Dash."""
