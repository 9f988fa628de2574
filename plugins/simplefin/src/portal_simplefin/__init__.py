"""portal's SimpleFIN Bridge plugin."""
