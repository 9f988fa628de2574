"""portal's first-party retailer plugin (Demo Mart's customer-data API v2)."""
