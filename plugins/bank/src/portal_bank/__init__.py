"""portal's first-party bank plugin (UK Open Banking Account and Transaction API v3.1)."""
