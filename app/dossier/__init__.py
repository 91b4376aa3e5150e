"""Dossier export: one archive with everything recorded about an improvement plan."""
