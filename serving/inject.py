"""Make Qwen3-VL see the true time of every sampled frame.

vLLM's Qwen3-VL processor writes `<t seconds>` before each 2-frame group,
with t = mean(frames_indices[i] / fps) of the group's frames (see
../shared/FACTS.md). framestamp sends the sampled frames as a JPEG sequence
(`data:video/jpeg;base64,<jpg>,<jpg>,...`) with per-request `media_io_kwargs`
whose fps is 1000 and whose frames_indices are each frame's PTS in
milliseconds, so `frames_indices / fps` is the PTS to the millisecond.

The engine must run with `--trust-request-mm-kwargs`; only the adapter talks
to it. The `uuid` on the part names the video + sampling, so vLLM's
processor and prefix caches hit when the same video is asked about again.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass
from typing import Any

from framestamp.serving.video import SampledVideo

# frames_indices count milliseconds.
INDEX_RATE = 1000


@dataclass(frozen=True)
class EngineVideo:
    """The pieces of an engine request that carry one sampled video."""

    part: dict[str, Any]
    media_io_kwargs: dict[str, Any]
    uuid: str

    @property
    def frames_indices(self) -> list[int]:
        return self.media_io_kwargs["video"]["frames_indices"]


def frame_indices(times: list[float]) -> list[int]:
    """Millisecond indices, strictly increasing (frames < 1 ms apart are nudged)."""
    indices: list[int] = []
    for t in times:
        index = round(t * INDEX_RATE)
        if indices and index <= indices[-1]:
            index = indices[-1] + 1
        indices.append(index)
    return indices


def group_timestamps(times: list[float], group: int = 2) -> list[str]:
    """The `<t seconds>` markers the model will see for these frame times.

    Mirrors the processor: odd counts repeat the last frame, each group's
    time is the mean of its first and last frame, printed with one decimal.
    """
    indices = frame_indices(times)
    if len(indices) % group:
        indices += [indices[-1]] * (group - len(indices) % group)
    seconds = [i / INDEX_RATE for i in indices]
    means = [(seconds[i] + seconds[i + group - 1]) / 2 for i in range(0, len(seconds), group)]
    return [f"<{t:.1f} seconds>" for t in means]


def video_uuid(video_key: str, sampled: SampledVideo, sampling_key: str) -> str:
    """Stable id of (video content, sampling): equal inputs give equal uuids."""
    digest = hashlib.sha256(
        f"{video_key}|{sampling_key}|{sampled.width}x{sampled.height}|{len(sampled.frames)}".encode()
    )
    return "fs-" + digest.hexdigest()[:32]


def engine_video(sampled: SampledVideo, *, uuid: str) -> EngineVideo:
    times = sampled.times
    indices = frame_indices(times)
    duration = max(sampled.info.duration, times[-1])
    url = "data:video/jpeg;base64," + ",".join(
        base64.b64encode(frame.jpeg).decode("ascii") for frame in sampled.frames
    )
    return EngineVideo(
        part={"type": "video_url", "video_url": {"url": url}, "uuid": uuid},
        media_io_kwargs={
            "video": {
                "num_frames": -1,
                "fps": INDEX_RATE,
                "frames_indices": indices,
                "total_num_frames": max(indices[-1] + 1, round(duration * INDEX_RATE)),
                "duration": duration,
            }
        },
        uuid=uuid,
    )


def inject_video(
    body: dict[str, Any],
    video: EngineVideo,
    *,
    location: tuple[int, int],
    system_instruction: str | None = None,
) -> dict[str, Any]:
    """A copy of the chat request `body` with the video part at `location`
    (message index, part index) replaced by `video`, and its metadata set.

    A system instruction (the answer format for the granularity) goes first,
    ahead of the video, so the prompt prefix stays identical across questions
    on the same video and vLLM's prefix cache can reuse it.
    """
    out = copy.deepcopy({k: v for k, v in body.items() if k != "messages"})
    messages = [dict(m) for m in body["messages"]]
    msg_index, part_index = location
    content = list(messages[msg_index]["content"])
    content[part_index] = video.part
    messages[msg_index]["content"] = content
    if system_instruction:
        if messages and messages[0].get("role") == "system":
            first = messages[0]
            existing = first.get("content")
            if isinstance(existing, str):
                first["content"] = f"{system_instruction}\n\n{existing}" if existing else system_instruction
            else:
                first["content"] = [{"type": "text", "text": system_instruction}, *(existing or [])]
        else:
            messages.insert(0, {"role": "system", "content": system_instruction})
    out["messages"] = messages
    out["media_io_kwargs"] = video.media_io_kwargs
    return out
