"""Privacy guard: patient text goes only to loopback or private-network servers unless the user
explicitly allows a remote one (``--allow-remote-llm`` / ``allow_remote = true``)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class PrivacyError(RuntimeError):
    """The LLM server is outside this machine's network and remote use was not allowed."""


def _is_local(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_loopback or ip.is_private or ip.is_link_local


def check_destination(url: str, allow_remote: bool) -> str:
    """Return the host if patient text may be sent to ``url``; raise ``PrivacyError`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrivacyError(f"the LLM URL {url!r} is not an http(s) URL")
    host = parts.hostname
    if allow_remote:
        return host
    try:
        addresses = [host] if _literal_ip(host) else sorted({ai[4][0] for ai in socket.getaddrinfo(host, None)})
    except socket.gaierror as exc:
        raise PrivacyError(f"cannot resolve the LLM host {host!r} ({exc}); "
                           "patient text is only sent to loopback or private addresses") from exc
    remote = [a for a in addresses if not _is_local(a)]
    if remote:
        raise PrivacyError(
            f"refusing to send patient text to {host} ({', '.join(remote)}): it is not a loopback or private-network "
            "address. Pass --allow-remote-llm (or set allow_remote = true in the [llm] config) if you mean it.")
    return host


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
