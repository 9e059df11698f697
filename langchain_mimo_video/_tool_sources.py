"""Which videos WatchVideoTool may watch: the agent's ``video`` argument, checked.

The agent's model chooses the argument, so it is untrusted: only http(s) URLs (public
ones unless the developer allows private addresses), and local files only inside the
allowed folders (after resolving symlinks and ``..``), regular files under the size
limit, checked with ``stat()`` before anything is read. Refusals are ``ToolException``
texts the agent can act on; a missing file outside the folders reads as "outside", so
an agent cannot probe which files exist elsewhere.
"""

from __future__ import annotations

import os
import re
import stat
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from langchain_core.tools import ToolException

from langchain_mimo_video._utils import MB
from langchain_mimo_video.errors import AmbiguousURLError, UnsafeSourceError
from langchain_mimo_video.media import check_public_url
from langchain_mimo_video.media._urls import LookupTimeout

__all__ = ["REFUSED", "checked_source"]

REFUSED: Final = "Cannot watch this video: "
"""How every refusal the agent reads begins."""
# "name:" at the start: a URL scheme (one letter is a Windows drive, a path).
_SCHEME: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def checked_source(
    video: str,
    *,
    allowed_dirs: Sequence[str | Path],
    allow_private_urls: bool,
    max_file_bytes: int | None,
    lookup_timeout: float | None = None,
) -> str | Path:
    """The agent's ``video`` as a checked URL, or a resolved path inside ``allowed_dirs``.

    Args:
        video: the ``video`` argument the agent gave.
        allowed_dirs: the folders local files may come from (none: no local files).
        allow_private_urls: let URLs point to loopback and private addresses.
        max_file_bytes: the largest local file accepted, or None.
        lookup_timeout: seconds a URL's host lookup may take (None: as long as the
            resolver takes).

    Returns:
        The URL as given (stripped), or the file's resolved path.

    Raises:
        ToolException: for a source the tool refuses; the message tells the agent why and
            what it may pass instead.

    """
    text = video.strip()
    match = _SCHEME.match(text)
    if match and len(match[1]) > 1:  # a single letter is a Windows drive
        scheme = match[1].lower()
        if scheme in ("http", "https"):
            return _checked_url(text, allow_private_urls, lookup_timeout)
        if scheme == "data":
            raise ToolException(
                REFUSED + "data: URLs are not accepted; pass an http(s) URL or the path "
                "of a local video file."
            )
        raise ToolException(
            REFUSED + f"{scheme}: URLs are not supported; only http(s) URLs (MiMo "
            "fetches them) or local file paths."
        )
    return _checked_path(text, allowed_dirs, max_file_bytes)


def _checked_url(url: str, allow_private_urls: bool, lookup_timeout: float | None) -> str:
    try:
        host = urllib.parse.urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        raise ToolException(REFUSED + f"{url!r} is not a valid http(s) URL with a host.")
    if not allow_private_urls:
        try:
            check_public_url(url, timeout=lookup_timeout)
        except LookupTimeout as error:
            raise ToolException(
                REFUSED + f"the host of {url} did not resolve within {lookup_timeout:g} s, so "
                "it could not be checked. Try again later or pass another URL."
            ) from error
        except AmbiguousURLError as error:
            # Says only how the URL is spelled (no lookup was made), and how to fix it.
            raise ToolException(REFUSED + str(error)) from error
        except UnsafeSourceError as error:
            # Do not pass on what the host resolved to: that would reveal internal
            # addresses to the agent (and its model provider).
            raise ToolException(
                REFUSED + f"{url} does not point to a public internet address (it is "
                "local, private, link-local, cloud metadata or does not resolve). Only "
                "public http(s) URLs can be watched."
            ) from error
    return url


def _checked_path(
    text: str, allowed_dirs: Sequence[str | Path], max_file_bytes: int | None
) -> Path:
    roots = [Path(folder) for folder in allowed_dirs]
    if not roots:
        raise ToolException(REFUSED + "this tool does not read local files; pass an http(s) URL.")
    if "\x00" in text:
        raise ToolException(
            REFUSED + "the path holds a NUL character, which no file name can; pass "
            "the path of a video file."
        )
    outside = ToolException(
        REFUSED + f"{text!r} is outside the folders this tool may read. Use a file in "
        "those folders or an http(s) URL."
    )
    given = Path(text)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    for candidate in candidates:
        try:
            resolved = candidate.resolve(strict=True)
        except FileNotFoundError:
            continue
        except ValueError as error:  # a character the file system cannot encode
            raise ToolException(REFUSED + f"{text!r} is not a usable file path.") from error
        except (OSError, RuntimeError) as error:  # symlink loop, permission denied
            if not _loosely_inside(candidate, roots):
                raise outside from error
            raise ToolException(REFUSED + f"{text!r} cannot be opened.") from error
        if not _inside(resolved, roots):
            raise outside
        return _checked_file(resolved, text, max_file_bytes)
    # Missing: answer "outside" for paths outside the folders, so an agent cannot
    # probe which files exist elsewhere.
    if not any(_loosely_inside(candidate, roots) for candidate in candidates):
        raise outside
    raise ToolException(
        REFUSED + f"no file {text!r} in the folders this tool may read. Check the name."
    )


def _checked_file(path: Path, text: str, limit: int | None) -> Path:
    try:
        info = path.stat()
    except OSError as error:
        raise ToolException(REFUSED + f"{text!r} cannot be opened.") from error
    if not stat.S_ISREG(info.st_mode):
        raise ToolException(REFUSED + f"{text!r} is not a regular file; pass a video file.")
    if limit is not None and info.st_size > limit:
        raise ToolException(
            REFUSED + f"{text!r} is {info.st_size / MB:.1f} MB, over this tool's limit "
            f"of {limit / MB:.1f} MB for local files. Use a smaller file."
        )
    return path


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _loosely_inside(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path`` would be inside ``roots`` (for wording refusals, never to allow)."""
    try:
        resolved = path.resolve()  # follows the symlinks that exist
    except (OSError, RuntimeError):
        resolved = Path(os.path.normpath(path))
    return _inside(resolved, roots)
