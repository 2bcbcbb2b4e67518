"""The review of a change: what a commit range and the working tree introduced against a base."""
