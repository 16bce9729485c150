"""Command line: ``rrball demo`` (more commands arrive with their issues)."""
