"""AI provenance: which lines an AI wrote, from which evidence, and whether a human reviewed them.

Sources (git trailers and authors, git-ai notes, Agent Trace records, inline markers, what the
language server observes, explicit marks) are read offline into one model (`model.py`), keyed
by content hashes of statements (`units.py`) so that reformatting and moving code keep them.
"""
