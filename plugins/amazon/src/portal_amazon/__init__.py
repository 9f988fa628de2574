"""portal's importer for Amazon's "Request your data" order history export."""
