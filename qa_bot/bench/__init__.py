"""Bench: `qa-bot bench`. One module per stage (startup, ingest, retrieval, generation) measures ours
against the raw library in the same run and prints the figures the README quotes."""
