"""Where imports come from: the standard library, the workspace, the environment, PyPI.

Everything here reads files (directory listings, `*.dist-info` metadata, pyproject.toml,
requirements files, the bundled PyPI snapshot); nothing imports or runs workspace or
environment code. `clearsight.checks.dependencies` turns the answers into findings.
"""
