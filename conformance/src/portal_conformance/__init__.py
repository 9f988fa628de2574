"""The portal conformance suite, as a pytest plugin."""
