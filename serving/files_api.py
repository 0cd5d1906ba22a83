"""The /v1/files endpoints (OpenAI Files API shape) over a FileStore."""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from framestamp.serving.errors import APIError
from framestamp.serving.files import FileStore


async def upload_file(request: Request, files: FileStore) -> Response:
    declared = request.headers.get("content-length")
    if not (declared and declared.isdigit()):
        raise APIError(411, "uploads need a Content-Length header", code="length_required")
    if int(declared) > files.max_file_bytes + 2**20:  # the multipart framing is small
        raise APIError(413, f"the file is larger than this server's limit of {files.max_file_bytes // 2**20} MiB",
                       code="file_too_large")
    try:
        form = await request.form(max_files=1, max_fields=16)
    except MultiPartException as exc:
        raise APIError(400, f"the upload is not valid multipart/form-data: {exc.message}", code="invalid_upload") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise APIError(400, "the upload has no 'file' part", param="file", code="invalid_upload")
        purpose = form.get("purpose")
        stored = await asyncio.to_thread(
            files.save, upload.file, filename=upload.filename or "upload",
            purpose=purpose if isinstance(purpose, str) else "", owner=request.state.owner,
        )
    finally:
        await form.close()
    return JSONResponse(stored.openai())


async def list_files(request: Request, files: FileStore) -> Response:
    stored = await asyncio.to_thread(files.list, request.state.owner)
    return JSONResponse({"object": "list", "data": [f.openai() for f in stored], "has_more": False})


async def get_file(request: Request, files: FileStore) -> Response:
    return JSONResponse(files.get(request.path_params["file_id"], request.state.owner).openai())


async def delete_file(request: Request, files: FileStore) -> Response:
    file_id = request.path_params["file_id"]
    files.delete(file_id, request.state.owner)
    return JSONResponse({"id": file_id, "object": "file", "deleted": True})


async def file_content(request: Request, files: FileStore) -> Response:
    stored = files.get(request.path_params["file_id"], request.state.owner)
    return FileResponse(files.path(stored), media_type="application/octet-stream", filename=stored.filename)
