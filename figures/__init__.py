"""Data -> Plotly figures, no Dash (the trend charts of the leader view and wall screen live here)."""
