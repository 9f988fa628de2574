"""portal's Enable Banking plugin."""
