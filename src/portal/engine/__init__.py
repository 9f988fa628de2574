"""The sync engine: one provider's stream of pages, normalised and delivered page by page."""
