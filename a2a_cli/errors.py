"""Errors the library raises; the CLI turns them into one-line messages and exit codes (DESIGN §8).

The library never prints or exits: it raises one of these, and `a2a_cli.cli.app.main` maps
`InputError` to exit code 2 (bad usage or input) and `WorkError` to exit code 1 (the work failed).
"""

import zipfile
import zlib

__all__ = ["ARCHIVE_ERRORS", "A2AError", "InputError", "WorkError"]

# What reading a damaged .npz (a zip archive) can raise from zipfile, zlib and numpy: to be turned
# into one of the errors below, or a cache miss. RuntimeError: zipfile's "encrypted, password required".
ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, ValueError, OSError,
                  EOFError, RuntimeError)


class A2AError(Exception):
    """Base class: a message meant for the user, and the exit code the CLI should use."""

    exit_code = 1


class InputError(A2AError):
    """The user's input is wrong: a missing file, undecodable audio, a motion of the wrong shape."""

    exit_code = 2


class WorkError(A2AError):
    """The input was fine but the work failed: a write that could not happen, a model that broke."""

    exit_code = 1
