"""portal's first-party utility plugin (Green Button Connect My Data, NAESB ESPI)."""
