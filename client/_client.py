"""`TemporalClient` and `AsyncTemporalClient`: ask a video when things happen.

    from framestamp.client import TemporalClient
    client = TemporalClient(base_url="http://localhost:8000/v1", api_key="...")
    answer = client.find("match.mp4", "the first goal")
    for event in answer.events: print(event.start_text, event.text)

Both wrap the OpenAI SDK (auth, retries, timeouts and proxies behave as its
users know them) and share everything but I/O (see _core.py). Local videos
are uploaded once through the Files API and referred to by id afterwards.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, BinaryIO

import openai

from framestamp.client import _core
from framestamp.client._core import Upload, VideoInput
from framestamp.client.errors import translate
from framestamp.client.types import AnswerDelta, TemporalAnswer, UploadedFile
from framestamp.prompts import PromptLibrary, load_prompts
from framestamp.serving.events import Granularity

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


class _Settings:
    """Constructor arguments both twins take; the environment is read here only."""

    def __init__(
        self, base_url: str | None, api_key: str | None, model: str | None, prompts: PromptLibrary | None,
    ) -> None:
        self.base_url = base_url or os.environ.get("FRAMESTAMP_BASE_URL") or DEFAULT_BASE_URL
        # The OpenAI SDK insists on a key; a server without auth ignores it.
        self.api_key = api_key or os.environ.get("FRAMESTAMP_API_KEY") or "none"
        self.model = model or os.environ.get("FRAMESTAMP_MODEL")
        self.prompts = prompts or load_prompts()
        self.uploads: dict[str, str] = {}

    def openai_kwargs(self, timeout: float, max_retries: int) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key, "timeout": timeout, "max_retries": max_retries}

    def params(
        self, model: str, video_url: str, question: str, *, stream: bool, granularity: Granularity | str,
        fps: float | None, max_frames: int | None, start: float | None, end: float | None,
        language: str | None, temporal_modeling: bool, return_timestamps: bool, coarse_bucket: float | None,
        answer_format: str | None, history: list[dict[str, Any]] | None, extra: dict[str, Any],
    ) -> dict[str, Any]:
        temporal = _core.temporal_options(
            granularity=granularity, fps=fps, max_frames=max_frames, start=start, end=end,
            language=language or _core.detect_language(question), temporal_modeling=temporal_modeling,
            return_timestamps=return_timestamps, coarse_bucket=coarse_bucket, answer_format=answer_format,
        )
        return _core.chat_params(
            model=model, video_url=video_url, question=question, temporal=temporal, stream=stream,
            history=history, extra=extra,
        )

    def task_question(self, task: str, query: str | None, language: str | None) -> str:
        return self.prompts.question(task, language or (_core.detect_language(query) if query else "en"), query)


class TemporalClient:
    """Synchronous client. Methods raise framestamp.client.errors exceptions."""

    def __init__(
        self, *, base_url: str | None = None, api_key: str | None = None, model: str | None = None,
        timeout: float = 600.0, max_retries: int = 2, prompts: PromptLibrary | None = None,
        openai_client: openai.OpenAI | None = None,
    ) -> None:
        self._settings = _Settings(base_url, api_key, model, prompts)
        self.openai = openai_client or openai.OpenAI(**self._settings.openai_kwargs(timeout, max_retries))

    def close(self) -> None:
        self.openai.close()

    def __enter__(self) -> TemporalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def model(self) -> str:
        """The model to ask: the one given, else the first the server lists."""
        if self._settings.model is None:
            try:
                self._settings.model = self.openai.models.list().data[0].id
            except openai.OpenAIError as exc:
                raise translate(exc) from None
        return self._settings.model

    def upload(self, video: VideoInput, *, progress: Callable[[int], None] | None = None) -> UploadedFile:
        """Store a local video on the server; ask about it later by `.id`.

        progress, if given, is called with the number of bytes sent since its last call.
        """
        target = _core.classify_video(video)
        if not isinstance(target, Upload):
            raise ValueError("upload takes a local path or bytes")
        return self._upload(target, progress)

    def _upload(self, target: Upload, progress: Callable[[int], None] | None = None) -> UploadedFile:
        try:
            if target.path is not None:
                with open(target.path, "rb") as f:  # streamed, not read into memory
                    source = _ProgressReader(f, progress) if progress else f
                    created = self.openai.files.create(file=(target.filename, source), purpose="user_data")
            else:
                created = self.openai.files.create(file=(target.filename, target.data), purpose="user_data")
        except openai.OpenAIError as exc:
            raise translate(exc) from None
        uploaded = UploadedFile.model_validate(created.model_dump())
        self._settings.uploads[target.key] = uploaded.id
        return uploaded

    def _video_url(self, video: VideoInput) -> str:
        target = _core.classify_video(video)
        if not isinstance(target, Upload):
            return target
        return self._settings.uploads.get(target.key) or self._upload(target).id

    def ask(
        self, video: VideoInput, question: str, *, granularity: Granularity | str = Granularity.SECOND,
        fps: float | None = None, max_frames: int | None = None, start: float | None = None,
        end: float | None = None, language: str | None = None, stream: bool = False,
        temporal_modeling: bool = True, return_timestamps: bool = True, coarse_bucket: float | None = None,
        answer_format: str | None = None, history: list[dict[str, Any]] | None = None, **extra: Any,
    ) -> TemporalAnswer | AnswerStream:
        """Ask `question` about `video`; extra keyword arguments go to chat.completions.create.

        answer_format="json" asks for a schema-constrained list of events
        (structured output) instead of lines of text.
        """
        params = self._settings.params(
            self.model(), self._video_url(video), question, stream=stream, granularity=granularity, fps=fps,
            max_frames=max_frames, start=start, end=end, language=language, temporal_modeling=temporal_modeling,
            return_timestamps=return_timestamps, coarse_bucket=coarse_bucket, answer_format=answer_format,
            history=history, extra=extra,
        )
        try:
            result = self.openai.chat.completions.create(**params)
        except openai.OpenAIError as exc:
            raise translate(exc) from None
        return AnswerStream(result) if stream else _core.answer_from_completion(result)

    def ask_image(self, image: VideoInput, question: str, **extra: Any) -> TemporalAnswer:
        """A plain question about an image (no times; events is None)."""
        params = _core.image_params(model=self.model(), image=image, question=question, extra=extra)
        try:
            return _core.answer_from_completion(self.openai.chat.completions.create(**params))
        except openai.OpenAIError as exc:
            raise translate(exc) from None

    def task_question(self, task: str, query: str | None = None, language: str | None = None) -> str:
        """The question a prompt template from prompts/ asks (find, actions, dense_captions,
        chapters, count, highlights, or the user's own)."""
        return self._settings.task_question(task, query, language)

    def ask_task(self, video: VideoInput, task: str, query: str | None = None, **options: Any):
        """Ask with a prompt template (see task_question)."""
        return self.ask(video, self.task_question(task, query, options.get("language")), **options)

    def find(self, video: VideoInput, query: str, **options: Any) -> TemporalAnswer:
        """When does `query` happen? The answer's events are the moments found."""
        return self.ask_task(video, "find", query, **options)

    def list_events(self, video: VideoInput, **options: Any) -> TemporalAnswer:
        """Dense captions: the whole video as timed segments."""
        return self.ask_task(video, "dense_captions", **options)

    def chapters(self, video: VideoInput, **options: Any) -> TemporalAnswer:
        return self.ask_task(video, "chapters", **options)


class AsyncTemporalClient:
    """The asyncio twin of TemporalClient, method for method."""

    def __init__(
        self, *, base_url: str | None = None, api_key: str | None = None, model: str | None = None,
        timeout: float = 600.0, max_retries: int = 2, prompts: PromptLibrary | None = None,
        openai_client: openai.AsyncOpenAI | None = None,
    ) -> None:
        self._settings = _Settings(base_url, api_key, model, prompts)
        self.openai = openai_client or openai.AsyncOpenAI(**self._settings.openai_kwargs(timeout, max_retries))

    async def close(self) -> None:
        await self.openai.close()

    async def __aenter__(self) -> AsyncTemporalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def model(self) -> str:
        if self._settings.model is None:
            try:
                self._settings.model = (await self.openai.models.list()).data[0].id
            except openai.OpenAIError as exc:
                raise translate(exc) from None
        return self._settings.model

    async def upload(self, video: VideoInput) -> UploadedFile:
        target = _core.classify_video(video)
        if not isinstance(target, Upload):
            raise ValueError("upload takes a local path or bytes")
        return await self._upload(target)

    async def _upload(self, target: Upload) -> UploadedFile:
        data = target.data if target.data is not None else target.path.read_bytes()
        try:
            created = await self.openai.files.create(file=(target.filename, data), purpose="user_data")
        except openai.OpenAIError as exc:
            raise translate(exc) from None
        uploaded = UploadedFile.model_validate(created.model_dump())
        self._settings.uploads[target.key] = uploaded.id
        return uploaded

    async def _video_url(self, video: VideoInput) -> str:
        target = _core.classify_video(video)
        if not isinstance(target, Upload):
            return target
        return self._settings.uploads.get(target.key) or (await self._upload(target)).id

    async def ask(
        self, video: VideoInput, question: str, *, granularity: Granularity | str = Granularity.SECOND,
        fps: float | None = None, max_frames: int | None = None, start: float | None = None,
        end: float | None = None, language: str | None = None, stream: bool = False,
        temporal_modeling: bool = True, return_timestamps: bool = True, coarse_bucket: float | None = None,
        answer_format: str | None = None, history: list[dict[str, Any]] | None = None, **extra: Any,
    ) -> TemporalAnswer | AsyncAnswerStream:
        params = self._settings.params(
            await self.model(), await self._video_url(video), question, stream=stream, granularity=granularity,
            fps=fps, max_frames=max_frames, start=start, end=end, language=language,
            temporal_modeling=temporal_modeling, return_timestamps=return_timestamps,
            coarse_bucket=coarse_bucket, answer_format=answer_format, history=history, extra=extra,
        )
        try:
            result = await self.openai.chat.completions.create(**params)
        except openai.OpenAIError as exc:
            raise translate(exc) from None
        return AsyncAnswerStream(result) if stream else _core.answer_from_completion(result)

    async def ask_image(self, image: VideoInput, question: str, **extra: Any) -> TemporalAnswer:
        params = _core.image_params(model=await self.model(), image=image, question=question, extra=extra)
        try:
            return _core.answer_from_completion(await self.openai.chat.completions.create(**params))
        except openai.OpenAIError as exc:
            raise translate(exc) from None

    def task_question(self, task: str, query: str | None = None, language: str | None = None) -> str:
        return self._settings.task_question(task, query, language)

    async def ask_task(self, video: VideoInput, task: str, query: str | None = None, **options: Any):
        return await self.ask(video, self.task_question(task, query, options.get("language")), **options)

    async def find(self, video: VideoInput, query: str, **options: Any) -> TemporalAnswer:
        return await self.ask_task(video, "find", query, **options)

    async def list_events(self, video: VideoInput, **options: Any) -> TemporalAnswer:
        return await self.ask_task(video, "dense_captions", **options)

    async def chapters(self, video: VideoInput, **options: Any) -> TemporalAnswer:
        return await self.ask_task(video, "chapters", **options)


class AnswerStream:
    """Iterate for AnswerDelta pieces of text; the last item is the TemporalAnswer.

    `answer` holds the TemporalAnswer once the stream has ended;
    `until_done()` reads the rest and returns it.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._reader = _core.StreamReader()
        self.answer: TemporalAnswer | None = None

    def __iter__(self) -> Iterator[AnswerDelta | TemporalAnswer]:
        try:
            for chunk in self._stream:
                delta = self._reader.feed(chunk)
                if delta is not None:
                    yield delta
        except openai.OpenAIError as exc:
            raise translate(exc) from None
        self.answer = self._reader.answer()
        yield self.answer

    def until_done(self) -> TemporalAnswer:
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class AsyncAnswerStream:
    """The asyncio twin of AnswerStream."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._reader = _core.StreamReader()
        self.answer: TemporalAnswer | None = None

    async def __aiter__(self) -> AsyncIterator[AnswerDelta | TemporalAnswer]:
        try:
            async for chunk in self._stream:
                delta = self._reader.feed(chunk)
                if delta is not None:
                    yield delta
        except openai.OpenAIError as exc:
            raise translate(exc) from None
        self.answer = self._reader.answer()
        yield self.answer

    async def until_done(self) -> TemporalAnswer:
        async for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class _ProgressReader:
    """A file whose reads report their size (for upload progress bars)."""

    def __init__(self, file: BinaryIO, progress: Callable[[int], None]) -> None:
        self._file = file
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._progress(len(data))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)
