r"""The URL guard: which URLs may be fetched.

:func:`check_public_url` lets through only URLs whose host is a public internet address.

Python's ``urlsplit``, WHATWG URL parsers (browsers, Node, many HTTP stacks) and urllib3
disagree on some spellings: ``http://127.0.0.1\@public.example/`` is ``public.example`` to
``urlsplit`` but ``127.0.0.1`` to the others. :func:`unambiguous_host` accepts only URLs
whose host every reading agrees on, and says why it refuses the others.

Lookups can be given a time limit (:func:`resolve`): the resolver runs in a worker thread,
so a probe's deadline also bounds a resolver that never answers.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import urllib.parse
from typing import Any, Final

from langchain_mimo_video.errors import AmbiguousURLError, UnsafeSourceError

__all__ = [
    "LookupTimeout",
    "check_public_url",
    "refuse_address",
    "resolve",
    "unambiguous_host",
    "whatwg_host",
]

# An authority we accept: a host name or a bracketed IPv6 address, then an optional port.
_AUTHORITY: Final = re.compile(
    r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?))(?::[0-9]*)?",
    re.IGNORECASE,
)
_SPECIAL_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})


def _refuse(url: str, why: str, fix: str) -> AmbiguousURLError:
    return AmbiguousURLError(
        f"Refusing {url!r}: {why}. URL parsers disagree on such URLs, so the host checked "
        f"here might not be the host that is fetched. {fix}"
    )


def _ipv4_number(part: str) -> int | None:
    """WHATWG's IPv4 number parser: decimal, ``0x`` hex or ``0`` octal; None if invalid."""
    radix = 10
    if part[:2].lower() == "0x":
        part, radix = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        part, radix = part[1:], 8
    if not part:
        return 0
    digits = "0123456789abcdef"[:radix]
    if any(char not in digits for char in part.lower()):
        return None
    return int(part, radix)


def _ends_in_a_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return last[:2].lower() == "0x" and _ipv4_number(last) is not None


def _whatwg_ipv4(host: str) -> str | None:
    """WHATWG's IPv4 parser (``127.1``, ``0x7f.1``, ``2130706433``...); None if invalid."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4 or any(not part for part in parts):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    values = [number for number in numbers if number is not None]
    if any(value > 255 for value in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for index, value in enumerate(values[:-1]):
        address += value * 256 ** (3 - index)
    return str(ipaddress.IPv4Address(address))


def whatwg_host(url: str) -> str | None:
    r"""The host of ``url`` as a WHATWG URL parser reads it, or None where it fails.

    A small, strict reading of the WHATWG URL standard for special schemes (http, https...):
    leading and trailing spaces and controls are stripped and tabs and newlines removed;
    ``\`` counts as ``/``; any number of slashes may follow the scheme; the authority ends
    at the first ``/``, ``\``, ``?`` or ``#``; user info runs to its last ``@``; the host is
    percent-decoded and lower-cased; hosts that end in a number are IPv4 addresses in any
    of the standard's spellings. Non-ASCII hosts are mapped with IDNA 2003 (WHATWG uses
    UTS 46, which differs for a few characters; :func:`unambiguous_host` refuses them).

    Args:
        url: any URL.

    Returns:
        The serialized host (IPv6 without brackets), or None if the URL has no host or a
        WHATWG parser would reject it.

    Example:
        .. code-block:: python

            whatwg_host("http://127.0.0.1\\@public.example/v.mp4")  # '127.0.0.1'

    """
    text = url.strip("".join(map(chr, range(0x21))))
    text = re.sub(r"[\t\n\r]", "", text)
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in _SPECIAL_SCHEMES:
        return None
    rest = rest.replace("\\", "/")
    rest = rest.lstrip("/")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0 or host_port[end + 1 : end + 2] not in ("", ":"):
            return None
        try:
            return ipaddress.IPv6Address(host_port[1:end]).compressed
        except ValueError:
            return None
    host = host_port.partition(":")[0]
    if not host:
        return None
    if "%" in host:
        try:
            host = urllib.parse.unquote(host, errors="strict")
        except UnicodeDecodeError:
            return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    host = host.lower()
    if re.search(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]", host):
        return None
    if _ends_in_a_number(host):
        return _whatwg_ipv4(host)
    return host


def _normal(host: str) -> str:
    """A host without its trailing dot, IPv6 compressed: to compare two readings."""
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host.rstrip(".")


def unambiguous_host(url: str) -> tuple[str, int | None]:
    """Split an http(s) URL into its host and port, refusing spellings parsers disagree on.

    Refused: control characters and whitespace anywhere; a backslash before the query;
    user info (``user@host``); percent-encoded or non-ASCII hosts; characters that are
    not allowed in a host name; IPv4 addresses in anything but dotted decimal
    (``0x7f.1``, ``2130706433``; those that name a non-public address are returned in
    dotted decimal, for the caller to refuse naming why); and anything else where
    ``urlsplit`` and a WHATWG reading (:func:`whatwg_host`) of the host differ.

    Args:
        url: the URL to read. Its scheme is the caller's to check.

    Returns:
        The host (lower-case, without a trailing dot or IPv6 brackets; IPv4 addresses in
        dotted decimal; empty if the URL has none) and the port, or None for the scheme's
        default.

    Raises:
        AmbiguousURLError: if the URL is spelled in one of the ways above. The message
            says what to change.

    Example:
        .. code-block:: python

            unambiguous_host("https://Example.com:8443/v.mp4")  # ('example.com', 8443)

    """
    for char in url:
        if char.isspace() or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            raise _refuse(
                url,
                f"it holds the whitespace or control character {char!r}",
                "Remove it, or percent-encode it in the path or query (a space is %20).",
            )
    if "\\" in re.split(r"[?#]", url, maxsplit=1)[0]:
        raise _refuse(
            url,
            "it holds a backslash before the query (browsers and most HTTP clients read it as '/')",
            "Use '/' between the parts of the URL and write a literal backslash as %5C.",
        )
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise AmbiguousURLError(f"Refusing {url!r}: it is not a valid URL ({err}).") from err
    netloc = parts.netloc
    if not netloc:
        return "", port  # no host: the caller refuses it
    if "@" in netloc:
        raise _refuse(
            url,
            "it holds user info (a name or password and '@' before the host)",
            "Remove the part up to and including the '@'; put credentials in a presigned "
            "URL's query instead.",
        )
    if "%" in netloc:
        raise _refuse(
            url,
            "its host is percent-encoded",
            "Write the host name or address plainly.",
        )
    if not netloc.isascii():
        try:
            hint = f" (here: {(parts.hostname or '').encode('idna').decode('ascii')})"
        except UnicodeError:
            hint = ""
        raise _refuse(
            url,
            "its host is not ASCII (parsers map international names differently)",
            f"Write the host in ASCII, international names in their 'xn--' form{hint}.",
        )
    match = _AUTHORITY.fullmatch(netloc)
    if match is None:
        raise _refuse(
            url,
            f"its host part {netloc!r} holds characters that are not allowed in a host name",
            "Use a host name (letters, digits, '-', '.'), an IPv4 address or a bracketed "
            "IPv6 address, optionally followed by ':' and a port.",
        )
    host = (parts.hostname or "").rstrip(".")
    if match["ipv6"] is not None:
        try:
            host = ipaddress.IPv6Address(match["ipv6"]).compressed
        except ValueError as err:
            raise AmbiguousURLError(
                f"Refusing {url!r}: [{match['ipv6']}] is not an IPv6 address."
            ) from err
    elif host and _ends_in_a_number(host):
        address = _whatwg_ipv4(host)
        if address is None:
            raise _refuse(
                url,
                f"its host {host!r} ends in a number but is not an IPv4 address",
                "Write an IPv4 address as four decimal numbers (a.b.c.d), or use a host name.",
            )
        if address != host:
            if ipaddress.IPv4Address(address).is_global:
                raise _refuse(
                    url,
                    f"its host {host!r} is an IPv4 address in a rare spelling",
                    f"Write it as {address}.",
                )
            return address, port  # not public: the caller refuses it, naming why
    seen = whatwg_host(url)
    if seen is None or _normal(seen) != _normal(host):
        raise _refuse(
            url,
            f"its host reads as {host!r} to Python but as {seen!r} to a WHATWG parser",
            "Write the URL plainly: scheme://host[:port]/path.",
        )
    return host, port


# --------------------------------------------------------------------------------------
# The guard: public addresses only
# --------------------------------------------------------------------------------------

_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_METADATA_HOSTS: Final = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Say why ``ip`` is not a public address, or return None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            problem = _address_problem(embedded)
            return f"{problem} (embedded in {ip})" if problem else None
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    for kind in ("unspecified", "loopback", "link_local", "private", "multicast", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "non-public"
    return None


def refuse_address(address: str, url: str) -> None:
    """Raise UnsafeSourceError naming why ``address`` (from ``url``) is not public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as err:
        raise UnsafeSourceError(f"Refusing {url}: {address!r} is not an IP address.") from err
    problem = _address_problem(ip)
    if problem:
        raise UnsafeSourceError(
            f"Refusing {url}: it points to {ip}, a {problem} address. Only public internet "
            "addresses are allowed here; pass allow_private_network=True for sources you trust."
        )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class LookupTimeout(TimeoutError):
    """A host name's lookup took longer than the time it was given."""


def resolve(host: str, port: int | None, *, timeout: float | None = None) -> list[tuple[Any, ...]]:
    """``socket.getaddrinfo(host, port, type=SOCK_STREAM)``, within ``timeout`` seconds.

    The lookup runs in a daemon thread, so waiting for it can stop at ``timeout`` even when
    the resolver never answers (the thread then ends whenever the resolver does).

    Args:
        host: a host name or IP address.
        port: the port, or None.
        timeout: seconds to wait for the answer; None waits as long as the resolver takes.

    Returns:
        ``getaddrinfo``'s entries.

    Raises:
        LookupTimeout: if there is no answer within ``timeout``.
        socket.gaierror: if the name does not resolve.

    """
    if timeout is None or _is_ip_literal(host):  # a literal needs no network
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    outcome: list[Any] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as error:  # handed to the waiting thread
            outcome.append(error)
        done.set()

    threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    if not done.wait(max(timeout, 0.0)):
        raise LookupTimeout(f"no answer from the resolver for {host} within {timeout:g} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    answer: list[tuple[Any, ...]] = outcome[0]
    return answer


def check_public_url(url: str, *, timeout: float | None = None) -> None:
    r"""Refuse URLs that point into a private network, or that parsers read differently.

    The host is resolved and every address it resolves to must be a public internet
    address: loopback, private, link-local, shared (CGNAT), reserved, multicast and cloud
    metadata addresses (such as ``169.254.169.254`` and ``fd00:ec2::254``) are refused,
    including IPv4 addresses embedded in IPv6 ones. IP literals are checked without any
    network access. Call it again for every redirect hop.

    The host checked must be the host every client would connect to, so URLs that Python's
    ``urlsplit`` and WHATWG parsers (browsers, most HTTP stacks) read differently are
    refused too: a backslash before the query (``http://127.0.0.1\@public.example/``),
    user info (``user@host``), whitespace and control characters, percent-encoded,
    non-ASCII or otherwise unusual hosts, and IPv4 addresses in rare spellings
    (``0x7f.1``).

    Args:
        url: an ``http://`` or ``https://`` URL.
        timeout: seconds the host's lookup may take; None waits as long as the resolver
            takes. A probe passes what is left of its deadline.

    Raises:
        UnsafeSourceError: if the scheme is not http(s), the host is missing or cannot be
            resolved, or any of its addresses is not public.
        LookupTimeout: (a ``TimeoutError``) if the lookup takes longer than ``timeout``.
        AmbiguousURLError: (an ``UnsafeSourceError``) if parsers could read the URL's host
            differently; the message says what to change.

    Example:
        .. code-block:: python

            check_public_url("https://example.com/cat.mp4")  # passes
            check_public_url("http://169.254.169.254/latest/")  # raises UnsafeSourceError

    """
    scheme = url.partition(":")[0].strip().lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise UnsafeSourceError(
            f"Refusing {url!r}: only http and https URLs are allowed, not {scheme!r}."
        )
    host, port = unambiguous_host(url)
    if not host:
        raise UnsafeSourceError(f"Refusing {url!r}: the URL has no host.")
    if host in _METADATA_HOSTS:
        raise UnsafeSourceError(f"Refusing {url}: {host} is a cloud metadata service.")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = resolve(host, port or 443, timeout=timeout)
        except (socket.gaierror, UnicodeError) as err:
            raise UnsafeSourceError(
                f"Refusing {url}: could not resolve {host} ({err}), so it cannot be checked "
                "to be a public address."
            ) from err
        addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        refuse_address(address, url)
