"""Turn a user's `video_url` into something the sampler can open, safely.

Accepted: `file://` paths inside the configured media directory (no `..`,
no symlink leading out of it), `data:video/...;base64,...`, and the ids of
files uploaded through the Files API (`file-...`, the caller's own only).
http(s) URLs are fetched under the operator's policy by fetch.py.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from framestamp.serving.errors import APIError
from framestamp.serving.files import FILE_ID, FileStore

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^,;]*)*?);base64,", re.IGNORECASE)


@dataclass(frozen=True)
class ResolvedVideo:
    """A path or bytes to sample, and a short name for messages and logs."""

    source: Path | bytes
    name: str
    # SHA-256 of the content when already known (uploads are hashed on arrival).
    sha256: str | None = None


def resolve_video_url(
    url: str, *, media_dir: Path | None, max_bytes: int, files: FileStore | None = None, owner: str = "anonymous"
) -> ResolvedVideo:
    if not isinstance(url, str) or not url:
        raise APIError(400, "video_url.url must be a non-empty string", param="video_url", code="invalid_video_url")
    if FILE_ID.match(url):
        if files is None:
            raise APIError(400, "this server does not accept uploads", param="video_url", code="uploads_disabled")
        stored = files.get(url, owner)
        return ResolvedVideo(files.path(stored), stored.filename, stored.sha256)
    if url.startswith("data:"):
        return _from_data_url(url, max_bytes)
    scheme = urlparse(url).scheme.lower()
    if scheme == "file":
        return _from_file_url(url, media_dir, max_bytes)
    if scheme in ("http", "https"):
        raise APIError(400, "http(s) URLs are fetched by fetch.py, not resolved here", param="video_url",
                       code="invalid_video_url")
    raise APIError(400, f"unsupported video URL scheme {scheme or url[:16]!r}", param="video_url", code="invalid_video_url")


def _from_data_url(url: str, max_bytes: int) -> ResolvedVideo:
    match = _DATA_URL.match(url)
    if not match:
        raise APIError(400, "a data: video URL must be base64 (data:video/mp4;base64,...)", param="video_url", code="invalid_video_url")
    mime = (match.group("mime") or "").lower()
    if mime and not (mime.startswith("video/") or mime == "application/octet-stream"):
        raise APIError(400, f"a data: URL of type {mime!r} is not a video", param="video_url", code="invalid_video_url")
    payload = url[match.end():]
    if len(payload) * 3 // 4 > max_bytes:
        raise APIError(413, f"the video is larger than this server's limit of {max_bytes // 2**20} MiB", code="video_too_large")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(400, "the data: URL is not valid base64", param="video_url", code="invalid_video_url") from None
    return ResolvedVideo(data, "data-url")


def _from_file_url(url: str, media_dir: Path | None, max_bytes: int) -> ResolvedVideo:
    if media_dir is None:
        raise APIError(403, "file:// URLs are disabled: this server has no media directory", code="media_path_forbidden")
    parsed = urlparse(url)
    raw = unquote(parsed.path)
    if parsed.netloc not in ("", "localhost"):
        raise APIError(400, "file:// URLs must name a local path", param="video_url", code="invalid_video_url")
    root = media_dir.resolve()
    candidate = Path(raw) if os.path.isabs(raw) else root / raw
    if ".." in Path(raw).parts:
        raise APIError(403, "the video path leaves the media directory", code="media_path_forbidden")
    resolved = candidate.resolve()  # follows symlinks, so an escape by link is caught
    if not resolved.is_relative_to(root):
        raise APIError(403, "the video path is outside the media directory", code="media_path_forbidden")
    if not resolved.is_file():
        raise APIError(404, f"no video named {candidate.name!r} in the media directory", code="video_not_found")
    if resolved.stat().st_size > max_bytes:
        raise APIError(413, f"the video is larger than this server's limit of {max_bytes // 2**20} MiB", code="video_too_large")
    return ResolvedVideo(resolved, resolved.name)
