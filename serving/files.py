"""Uploaded files, in the shape of the OpenAI Files API.

`client.files.create(file=open("clip.mp4", "rb"), purpose="user_data")` from
the OpenAI SDK stores the video once; later requests name it by id (in a
`video_url` or an OpenAI `file` content part), so a big video crosses the
wire once however many questions are asked about it.

Each file lives in the store's directory as `<id>` with a `<id>.json`
beside it (name, size, owner, SHA-256, expiry). Files belong to the API key
that uploaded them: another key gets 404, as if the file did not exist.
Expired files are removed when the store is next touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from framestamp.serving.errors import APIError

FILE_ID = re.compile(r"^file-[0-9a-f]{24}$")
PURPOSES = frozenset({"user_data", "vision", "assistants", "batch", "fine-tune", "evals"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    bytes: int
    created_at: int
    expires_at: int | None
    purpose: str
    owner: str
    sha256: str

    def openai(self) -> dict[str, object]:
        """The OpenAI `FileObject` for this file."""
        return {
            "id": self.id, "object": "file", "bytes": self.bytes, "created_at": self.created_at,
            "expires_at": self.expires_at, "filename": self.filename, "purpose": self.purpose,
            "status": "processed",
        }


def owner_of(api_key: str) -> str:
    """Files are filed under a digest of the key, never the key itself."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class FileStore:
    """A directory of uploads with a per-file cap, a total cap and an expiry."""

    def __init__(self, root: Path, *, max_file_bytes: int, max_total_bytes: int, ttl_seconds: float | None) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()  # total-size accounting across concurrent uploads
        root.mkdir(parents=True, exist_ok=True)

    def save(self, source: BinaryIO, *, filename: str, purpose: str, owner: str) -> StoredFile:
        if purpose not in PURPOSES:
            raise APIError(400, f"purpose must be one of {', '.join(sorted(PURPOSES))}", param="purpose",
                           code="invalid_purpose")
        self.sweep()
        file_id = f"file-{secrets.token_hex(12)}"
        partial = self.root / f".{file_id}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(partial, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > self.max_file_bytes:
                        raise APIError(413, f"the file is larger than this server's limit of "
                                       f"{self.max_file_bytes // 2**20} MiB", code="file_too_large")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise APIError(400, "the uploaded file is empty", param="file", code="empty_file")
            with self._lock:
                if self.used_bytes() + size > self.max_total_bytes:
                    raise APIError(507, "the server's upload storage is full; delete files you no longer need "
                                   "(DELETE /v1/files/{id}) or try later", code="upload_storage_full")
                now = int(time.time())
                stored = StoredFile(
                    id=file_id, filename=_safe_name(filename), bytes=size, created_at=now,
                    expires_at=now + int(self.ttl_seconds) if self.ttl_seconds else None,
                    purpose=purpose, owner=owner, sha256=digest.hexdigest(),
                )
                os.replace(partial, self.root / file_id)
                self._meta_path(file_id).write_text(json.dumps(asdict(stored)))
            return stored
        finally:
            partial.unlink(missing_ok=True)

    def get(self, file_id: str, owner: str) -> StoredFile:
        stored = self._load(file_id) if FILE_ID.match(file_id or "") else None
        if stored is None or stored.owner != owner:
            raise APIError(404, f"no file with id {file_id!r}", param="file_id", code="file_not_found")
        if stored.expires_at is not None and stored.expires_at <= time.time():
            self._remove(file_id)
            raise APIError(404, f"file {file_id!r} has expired", param="file_id", code="file_not_found")
        return stored

    def path(self, stored: StoredFile) -> Path:
        return self.root / stored.id

    def list(self, owner: str) -> list[StoredFile]:
        self.sweep()
        files = [f for f in map(self._load, self._ids()) if f is not None and f.owner == owner]
        return sorted(files, key=lambda f: f.created_at, reverse=True)

    def delete(self, file_id: str, owner: str) -> None:
        self.get(file_id, owner)
        self._remove(file_id)

    def sweep(self) -> None:
        now = time.time()
        for file_id in self._ids():
            stored = self._load(file_id)
            if stored is not None and stored.expires_at is not None and stored.expires_at <= now:
                self._remove(file_id)

    def used_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.glob("file-*") if p.suffix != ".json")

    def _ids(self) -> list[str]:
        return [p.stem for p in self.root.glob("file-*.json")]

    def _meta_path(self, file_id: str) -> Path:
        return self.root / f"{file_id}.json"

    def _load(self, file_id: str) -> StoredFile | None:
        try:
            return StoredFile(**json.loads(self._meta_path(file_id).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _remove(self, file_id: str) -> None:
        (self.root / file_id).unlink(missing_ok=True)
        self._meta_path(file_id).unlink(missing_ok=True)


def _safe_name(filename: str) -> str:
    """Keep the user's name for display only; it never becomes a path."""
    name = Path(filename or "upload").name
    return name[:255] or "upload"
