"""portal's file importers: OFX/QFX statements (OFX 1.x SGML, 2.x XML) and midata CSVs."""
