"""What the sync and async clients share: requests built, answers read.

Nothing here does I/O; `TemporalClient` and `AsyncTemporalClient` only add
the calls (upload, chat, model list) around these functions.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from framestamp.client.types import AnswerDelta, TemporalAnswer
from framestamp.serving.events import Granularity

# What `video` may be: a local path, raw bytes, a URL the server reads
# (file://, data:, http(s):// where the server allows it), or an uploaded id.
VideoInput = Union[str, os.PathLike, bytes]

_URL_SCHEMES = ("file://", "data:", "http://", "https://")
_FILE_ID = re.compile(r"^file-[0-9a-f]{24}$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Upload:
    """A local video the client must upload first; key identifies its content."""

    key: str
    filename: str
    path: Path | None = None
    data: bytes | None = None


def is_reference(video: object) -> bool:
    """A file id or a URL the server reads: sent as is, never uploaded."""
    return isinstance(video, str) and bool(_FILE_ID.match(video) or video.startswith(_URL_SCHEMES))


def classify_video(video: VideoInput) -> str | Upload:
    """A URL or file id to send as is, or the Upload it takes first."""
    if isinstance(video, bytes | bytearray):
        data = bytes(video)
        return Upload(key="sha256:" + hashlib.sha256(data).hexdigest(), filename="video.mp4", data=data)
    if is_reference(video):
        return video
    path = Path(os.fspath(video)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no video file at {path}")
    stat = path.stat()
    # Same path, size and mtime: the same file, uploaded once per client.
    return Upload(key=f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}", filename=path.name, path=path)


def image_part(image: VideoInput) -> dict[str, Any]:
    """An image_url content part: URLs as they are, local images inline as data: URLs."""
    import base64
    import mimetypes

    if isinstance(image, str) and image.startswith(_URL_SCHEMES):
        return {"type": "image_url", "image_url": {"url": image}}
    if isinstance(image, bytes | bytearray):
        data, mime = bytes(image), "image/png"
    else:
        path = Path(os.fspath(image)).expanduser()
        data, mime = path.read_bytes(), mimetypes.guess_type(path.name)[0] or "image/png"
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{base64.b64encode(data).decode()}"}}


def image_params(*, model: str, image: VideoInput, question: str, extra: dict[str, Any]) -> dict[str, Any]:
    content = [image_part(image), {"type": "text", "text": question}]
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def detect_language(question: str) -> str:
    """zh when the question is written in Chinese, so the format instruction matches."""
    return "zh" if _CJK.search(question) else "en"


def temporal_options(
    *, granularity: Granularity | str, fps: float | None, max_frames: int | None, start: float | None,
    end: float | None, language: str, temporal_modeling: bool, return_timestamps: bool,
    coarse_bucket: float | None, answer_format: str | None = None,
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "enable_temporal_modeling": temporal_modeling,
        "return_timestamps": return_timestamps,
        "temporal_granularity": Granularity(granularity).value,
        "language": language,
    }
    for name, value in (("fps", fps), ("max_frames", max_frames), ("start", start), ("end", end),
                        ("coarse_bucket", coarse_bucket), ("answer_format", answer_format)):
        if value is not None:
            options[name] = value
    return options


def chat_params(
    *, model: str, video_url: str, question: str, temporal: dict[str, Any], stream: bool,
    history: list[dict[str, Any]] | None, extra: dict[str, Any],
) -> dict[str, Any]:
    """Arguments for `chat.completions.create`: the video goes with the question."""
    messages = list(history or [])
    messages.append({
        "role": "user",
        "content": [{"type": "video_url", "video_url": {"url": video_url}}, {"type": "text", "text": question}],
    })
    extra = dict(extra)
    # The caller's own extra_body (e.g. return_token_ids) travels beside
    # `temporal`; temporal options in it (e.g. min_events) are merged in.
    extra_body = dict(extra.pop("extra_body", None) or {})
    extra_body["temporal"] = {**temporal, **(extra_body.get("temporal") or {})}
    params: dict[str, Any] = {"model": model, "messages": messages, "extra_body": extra_body, **extra}
    if stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    return params


def answer_from_completion(completion: Any) -> TemporalAnswer:
    choice = completion.choices[0] if completion.choices else None
    return TemporalAnswer.from_parts(
        text=(choice.message.content if choice else None) or "",
        temporal=_extra(completion, "temporal"),
        usage=completion.usage,
        model=completion.model,
        id=completion.id,
        finish_reason=choice.finish_reason if choice else None,
    )


class StreamReader:
    """Turns stream chunks into text deltas, and the last one into the answer."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._temporal: dict[str, Any] | None = None
        self._usage: Any = None
        self._model: str | None = None
        self._id: str | None = None
        self._finish: str | None = None

    def feed(self, chunk: Any) -> AnswerDelta | None:
        self._id = self._id or chunk.id
        self._model = self._model or chunk.model
        if chunk.usage is not None:
            self._usage = chunk.usage
        temporal = _extra(chunk, "temporal")
        if temporal is not None:
            self._temporal = temporal
        for choice in chunk.choices or []:
            if choice.index != 0:
                continue
            if choice.finish_reason:
                self._finish = choice.finish_reason
            if choice.delta and choice.delta.content:
                self._text.append(choice.delta.content)
                return AnswerDelta(text=choice.delta.content)
        return None

    def answer(self) -> TemporalAnswer:
        return TemporalAnswer.from_parts(
            text="".join(self._text), temporal=self._temporal, usage=self._usage,
            model=self._model, id=self._id, finish_reason=self._finish,
        )


def _extra(obj: Any, name: str) -> Any:
    """A field the OpenAI SDK's models do not declare (kept in model_extra)."""
    extra = getattr(obj, "model_extra", None) or {}
    return extra.get(name)
