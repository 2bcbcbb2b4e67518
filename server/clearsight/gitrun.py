"""The one way Clearsight runs git: the `git` on the server's PATH, never a shell, a fixed
argument list, a timeout, and repository settings that could make git run programs
(fsmonitor, hooks, external diff) switched off, so reading an untrusted repository never
runs its code. Provenance and the new-dependency check both use it."""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404  # reason: runs only the git binary with fixed arguments
from pathlib import Path

DEFAULT_TIMEOUT = 60.0
_SAFE_CONFIG = (
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=", "-c", "core.untrackedCache=false",
)  # fmt: skip


class GitError(Exception):
    """git is missing, failed or timed out; the message says which, for the user."""


def _git() -> str:
    found = shutil.which("git")
    if not found:
        raise GitError("git was not found on PATH; git-based checks are unavailable")
    return found


def run_git(
    cwd: Path, *args: str, stdin: bytes | None = None, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """git's standard output; GitError when it is missing, fails or takes too long."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(variable, None)
    try:
        done = subprocess.run(  # nosec B603  # reason: fixed argv, no shell
            [_git(), *_SAFE_CONFIG, *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise GitError(f"git {args[0]} took more than {timeout:.0f} s") from error
    except OSError as error:
        raise GitError(f"git could not run: {error}") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
    return done.stdout
