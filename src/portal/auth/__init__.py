"""Obtaining, keeping and using a customer's credentials: OAuth flows and the token vault."""
