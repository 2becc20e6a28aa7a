"""Reads: querysets scoped to what the asking firm may see. No writes here."""
