"""Fetching http(s) video URLs without letting users reach what they should not.

Off unless the operator names the hosts (`--allow-remote-host`). Then, for
every URL and every redirect hop:

- the scheme is http or https and the host is on the allow-list (exact
  names, or `*.example.com` for subdomains);
- the name is resolved once, and every address it resolves to must be a
  public one (no private, loopback, link-local, multicast, reserved or
  unspecified address) unless the operator allows private networks;
- the connection goes to the address that was checked (the Host header and
  TLS SNI carry the name), so a second DNS answer cannot swap in an
  internal address (DNS rebinding);
- redirects are followed by hand, each target checked again, at most
  `max_redirects`;
- the body is streamed with a size cap (Content-Length checked first) and
  the whole fetch has a deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from framestamp.serving.errors import APIError


@dataclass(frozen=True)
class FetchPolicy:
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    max_bytes: int = 256 * 2**20
    timeout: float = 60.0
    max_redirects: int = 3
    # For deployments that serve videos from an intranet; never for the open internet.
    allow_private_networks: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.allowed_hosts)

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for pattern in self.allowed_hosts:
            pattern = pattern.lower().rstrip(".")
            if pattern.startswith("*.") and host.endswith(pattern[1:]):
                return True
            if host == pattern:
                return True
        return False


def _forbidden(message: str) -> APIError:
    return APIError(403, message, param="video_url", code="remote_url_forbidden")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


async def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise APIError(400, f"cannot resolve {host!r}", param="video_url", code="remote_fetch_failed") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


async def _check(url: str, policy: FetchPolicy) -> tuple[httpx.URL, str, str]:
    """The URL to connect to (host replaced by a checked address), the host name, and the address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise APIError(400, "only http(s) URLs with a host can be fetched", param="video_url", code="invalid_video_url")
    if parts.username or parts.password:
        raise APIError(400, "URLs with credentials are not fetched", param="video_url", code="invalid_video_url")
    host = parts.hostname
    if not policy.host_allowed(host):
        raise _forbidden(f"this server does not fetch videos from {host!r} (not on its allow-list)")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    if not policy.allow_private_networks:
        bad = [a for a in addresses if not _public(a)]
        if bad:
            raise _forbidden(f"{host!r} resolves to a non-public address ({bad[0]}); refused")
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{netloc}:{port}", parts.path or "/", parts.query, ""))
    return httpx.URL(pinned), host, address


async def fetch_video(url: str, policy: FetchPolicy, *, client: httpx.AsyncClient | None = None) -> bytes:
    """The body at `url`, fetched under `policy`; APIError with the reason otherwise."""
    if not policy.enabled:
        raise APIError(400, "http(s) video URLs are not accepted by this server; upload the file (POST /v1/files) "
                       "or send it as a data: URL", param="video_url", code="remote_urls_disabled")
    deadline = time.monotonic() + policy.timeout
    own = client is None
    client = client or httpx.AsyncClient(follow_redirects=False, trust_env=False)
    try:
        for _ in range(policy.max_redirects + 1):
            target, host, _ = await _check(url, policy)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                data, location = await asyncio.wait_for(_get(client, target, host, policy), remaining)
            except TimeoutError:
                break
            except httpx.HTTPError as exc:
                raise APIError(400, f"fetching the video failed: {type(exc).__name__}", param="video_url",
                               code="remote_fetch_failed") from None
            if location is None:
                return data
            url = urljoin(url, location)
        else:
            raise APIError(400, f"more than {policy.max_redirects} redirects", param="video_url",
                           code="remote_fetch_failed")
        raise APIError(504, f"fetching the video took longer than {policy.timeout:g} s", param="video_url",
                       code="remote_fetch_timeout")
    finally:
        if own:
            await client.aclose()


async def _get(client: httpx.AsyncClient, target: httpx.URL, host: str, policy: FetchPolicy) -> tuple[bytes, str | None]:
    headers = {"Host": host if target.port in (80, 443) else f"{host}:{target.port}"}
    request = client.build_request("GET", target, headers=headers, extensions={"sni_hostname": host})
    response = await client.send(request, stream=True)
    try:
        if response.is_redirect:
            return b"", response.headers.get("location", "")
        if response.status_code != 200:
            raise APIError(400, f"the video URL answered HTTP {response.status_code}", param="video_url",
                           code="remote_fetch_failed")
        declared = response.headers.get("content-length")
        too_big = APIError(413, f"the video is larger than this server's limit of {policy.max_bytes // 2**20} MiB",
                           code="video_too_large")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise too_big
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > policy.max_bytes:
                raise too_big
        return bytes(body), None
    finally:
        await response.aclose()
