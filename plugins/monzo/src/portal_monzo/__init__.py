"""portal's Monzo plugin."""
