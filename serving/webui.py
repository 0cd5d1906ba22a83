"""The web page on port 7860: ask a video when things happen, click the answers.

A Gradio app that talks to the adapter through framestamp's own client (never
to the engine): Video Inference and Image Inference tabs, the seed's three
options with their labels, granularity, fps and max frames, a streamed
answer, an events table whose rows seek the player, a timeline of marks,
exports, and follow-up questions on the same video (uploaded once).

The same server keeps the seed tutorial's endpoint, `POST /api/predict`
with `{"data": [history, video, prompt, stream, options]}`, answering
`{"data": ["- event: 00:00:05", ...]}`.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from framestamp.client import (
    AnswerDelta,
    ExportError,
    ExportFormat,
    FramestampError,
    TemporalAnswer,
    TemporalClient,
    export_events,
)
from framestamp.client._core import detect_language, is_reference
from framestamp.prompts import PromptLibrary, load_prompts
from framestamp.serving.events import Event, Granularity, render_events

LABEL_TEMPORAL = "Enable Temporal Modeling"
LABEL_TIMESTAMPS = "Return Timestamps in Response"
LABEL_DEEPSTACK = "Use DeepStack for Fine-grained Alignment"
DEEPSTACK_INFO = ("Qwen3-VL always fuses multi-level vision features (DeepStack); "
                  "this box is kept for the seed's scripts and changes nothing.")
EXPORTS = (ExportFormat.SRT, ExportFormat.VTT, ExportFormat.YOUTUBE_CHAPTERS, ExportFormat.JSON)
# Seeks the page's player; Gradio runs it in the browser with the handler's output.
SEEK_JS = """(t) => {
  const video = document.querySelector('#fs-player video');
  if (video && t !== null && t !== undefined && t >= 0) { video.currentTime = t; }
  return t;
}"""


@dataclass(frozen=True)
class UIConfig:
    adapter_url: str  # e.g. http://127.0.0.1:8000/v1
    api_key: str | None = None
    model: str | None = None
    media_dir: Path | None = None
    prompts_dirs: tuple[Path, ...] = ()
    max_tokens: int = 1024
    # None: the adapter's default; "json" asks for structured events.
    answer_format: str | None = None
    # Structured answers only: hold the model to at least/most this many events.
    min_events: int | None = None
    max_events: int | None = None
    temperature: float | None = None


def _request_extra(config: UIConfig) -> dict[str, Any]:
    """Per-request settings the page adds to every question."""
    extra: dict[str, Any] = {"max_tokens": config.max_tokens, "answer_format": config.answer_format}
    temporal = {k: v for k, v in (("min_events", config.min_events), ("max_events", config.max_events)) if v is not None}
    if temporal:
        extra["extra_body"] = {"temporal": temporal}
    if config.temperature is not None:
        extra["temperature"] = config.temperature
    return extra


def _client(config: UIConfig) -> TemporalClient:
    return TemporalClient(base_url=config.adapter_url, api_key=config.api_key, model=config.model, max_retries=0)


def named_video(video: str, media_dir: Path | None) -> str:
    """A video named by text (the seed script, the page's path box): file ids
    and URLs as they are, paths as file:// URLs, so the adapter's media
    directory rules apply to them (relative paths start in the media dir)."""
    if is_reference(video):
        return video
    path = Path(video)
    if not path.is_absolute() and media_dir is not None:
        path = media_dir / path
    return path.absolute().as_uri()


def _events_of(answer: TemporalAnswer) -> list[Event]:
    return [e.to_event() for e in answer.events or []]


def seed_predict(config: UIConfig, client: TemporalClient, data: list[Any]) -> list[str]:
    """The seed's /api/predict: [history, video, prompt, stream, options] -> answer lines."""
    if not isinstance(data, list) or len(data) < 3:
        raise ValueError("data must be [history, video, prompt, stream, options]")
    history, video, prompt = data[0], data[1], data[2]
    options = data[4] if len(data) > 4 and isinstance(data[4], dict) else {}
    if not isinstance(video, str) or not video:
        raise ValueError("data[1] must name the video (a path in the media directory, a file id or a URL)")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("data[2] must be the question")
    granularity = Granularity(options.get("temporal_granularity", "second"))
    answer = client.ask(
        named_video(video, config.media_dir), prompt,
        granularity=granularity,
        temporal_modeling=bool(options.get("enable_temporal_modeling", True)),
        return_timestamps=bool(options.get("return_timestamps", True)),
        history=_history_messages(history),
        **_request_extra(config),
    )
    events = _events_of(answer)
    if events:
        language = detect_language(prompt)
        return render_events(events, granularity, language=language)
    return [line for line in answer.text.splitlines() if line.strip()] or [answer.text]


def _history_messages(history: Any) -> list[dict[str, Any]]:
    """Chat history as the seed (pairs) or Gradio (role/content dicts) sends it."""
    messages: list[dict[str, Any]] = []
    for item in history or []:
        if isinstance(item, dict) and item.get("role") in ("user", "assistant") and isinstance(item.get("content"), str):
            messages.append({"role": item["role"], "content": item["content"]})
        elif isinstance(item, list | tuple) and len(item) == 2:
            user, assistant = item
            if isinstance(user, str):
                messages.append({"role": "user", "content": user})
            if isinstance(assistant, str):
                messages.append({"role": "assistant", "content": assistant})
    return messages


def events_table(answer: TemporalAnswer | None) -> list[list[Any]]:
    return [[e.start_text, e.end_text or "", e.text, e.start] for e in (answer.events or [])] if answer else []


def timeline_html(answer: TemporalAnswer | None) -> str:
    """A bar under the player with a mark per event (click one to seek)."""
    if not answer or not answer.events or not answer.duration:
        return "<div class='fs-timeline fs-empty'></div>"
    marks = []
    for e in answer.events:
        left = 100 * e.start / answer.duration
        width = max(0.6, 100 * ((e.end or e.start) - e.start) / answer.duration)
        label = html.escape(f"{e.start_text} {e.text}", quote=True)
        marks.append(
            f"<span class='fs-mark' title='{label}' data-start='{e.start}' "
            f"style='left:{left:.3f}%;width:{width:.3f}%'></span>"
        )
    return f"<div class='fs-timeline' id='fs-timeline'>{''.join(marks)}</div>"


CSS = """
.fs-timeline { position: relative; height: 14px; background: #e5e7eb; border-radius: 4px; margin-top: 4px; }
.fs-mark { position: absolute; top: 0; height: 14px; background: #f97316; border-radius: 3px; cursor: pointer; }
"""


def export_file(answer: TemporalAnswer | None, fmt: ExportFormat, directory: Path) -> str:
    if not answer or not answer.events:
        raise ExportError("there are no events to export yet")
    text = export_events(answer.events, fmt, duration=answer.duration)
    path = directory / f"framestamp-events{fmt.suffix}"
    path.write_text(text, encoding="utf-8")
    return str(path)


def create_ui(config: UIConfig, prompts: PromptLibrary | None = None):
    """The Gradio Blocks of the page."""
    prompts = prompts or load_prompts(config.prompts_dirs)
    client = _client(config)
    exports_dir = Path(tempfile.mkdtemp(prefix="framestamp-exports-"))

    def ask_video(video, source, question, temporal_on, timestamps_on, deepstack_on, granularity, fps,
                  max_frames, history, state, progress=gr.Progress()):
        typed = source.strip() if source else ""
        video_ref = typed or video
        if not video_ref:
            raise gr.Error("Upload a video or give a path/URL first.")
        if not question or not question.strip():
            raise gr.Error("Type a question.")
        state = dict(state or {})
        try:
            if state.get("video") != video_ref:
                # A new video: upload it once; follow-up questions reuse the id.
                progress(0.05, desc="uploading")
                # A typed name goes through the adapter's checks; a file the
                # page received is uploaded.
                ref = named_video(typed, config.media_dir) if typed else client.upload(video).id
                state = {"video": video_ref, "ref": ref}
                history = []
            progress(0.2, desc="sampling frames and generating")
            stream = client.ask(
                state["ref"], question, granularity=granularity, fps=fps or None,
                max_frames=int(max_frames) if max_frames else None, temporal_modeling=temporal_on,
                return_timestamps=timestamps_on, history=_history_messages(history), stream=True,
                **_request_extra(config),
            )
            history = list(history or []) + [{"role": "user", "content": question},
                                             {"role": "assistant", "content": ""}]
            for item in stream:
                if isinstance(item, AnswerDelta):
                    history[-1]["content"] += item.text
                    yield history, gr.skip(), gr.skip(), state, gr.skip()
            answer = stream.answer
        except (FramestampError, FileNotFoundError, ValueError) as exc:
            raise gr.Error(_message(exc)) from None
        notes = list(answer.warnings)
        if deepstack_on is False:
            notes.append(DEEPSTACK_INFO)
        state["answer"] = answer.model_dump(mode="json")
        yield history, events_table(answer), timeline_html(answer), state, "\n".join(notes)

    def ask_image(image, question):
        if image is None or not question:
            raise gr.Error("Upload an image and type a question.")
        try:
            return client.ask_image(image, question, max_tokens=config.max_tokens).text
        except FramestampError as exc:
            raise gr.Error(_message(exc)) from None

    def seek_to(state, evt: gr.SelectData):
        answer = TemporalAnswer.model_validate(state["answer"]) if state and state.get("answer") else None
        if answer is None or not answer.events:
            return -1
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return answer.events[row].start

    def do_export(state, fmt):
        answer = TemporalAnswer.model_validate(state["answer"]) if state and state.get("answer") else None
        try:
            return export_file(answer, ExportFormat(fmt), exports_dir)
        except ExportError as exc:
            raise gr.Error(str(exc)) from None

    with gr.Blocks(title="framestamp", analytics_enabled=False) as page:
        gr.Markdown("# framestamp\nAsk a video *when* things happen; get exact, clickable timestamps.")
        with gr.Tab("Video Inference"):
            state = gr.State({})
            with gr.Row():
                with gr.Column(scale=1):
                    video = gr.Video(label="Video", elem_id="fs-player", sources=["upload"])
                    timeline = gr.HTML(timeline_html(None), elem_id="fs-timeline-box")
                    source = gr.Textbox(label="…or a path in the media folder, file id or URL", max_lines=1)
                    question = gr.Textbox(label="Question", lines=2, elem_id="fs-question")
                    gr.Examples(examples=[[q] for q in prompts.examples("en") + prompts.examples("zh")[:2]],
                                inputs=[question], label="Example questions")
                    temporal_on = gr.Checkbox(True, label=LABEL_TEMPORAL, elem_id="fs-temporal")
                    timestamps_on = gr.Checkbox(True, label=LABEL_TIMESTAMPS, elem_id="fs-timestamps")
                    deepstack_on = gr.Checkbox(True, label=LABEL_DEEPSTACK, info=DEEPSTACK_INFO, elem_id="fs-deepstack")
                    granularity = gr.Radio([g.value for g in Granularity], value="second", label="Time granularity",
                                           elem_id="fs-granularity")
                    with gr.Accordion("Advanced", open=False):
                        fps = gr.Slider(0.25, 8, value=2, step=0.25, label="Frames per second")
                        max_frames = gr.Slider(4, 768, value=256, step=4, label="Max frames")
                    with gr.Row():
                        submit = gr.Button("Submit", variant="primary", elem_id="fs-submit")
                        stop = gr.Button("Stop", elem_id="fs-stop")
                with gr.Column(scale=1):
                    chat = gr.Chatbot(label="Answer", elem_id="fs-chat", height=320)
                    table = gr.Dataframe(headers=["start", "end", "description", "seconds"], interactive=False,
                                         label="Events (click a row to seek)", elem_id="fs-events", wrap=True)
                    notes = gr.Textbox(label="Notes", interactive=False, elem_id="fs-notes")
                    with gr.Row():
                        export_buttons = [gr.Button(f"Export {f.value.upper()}", elem_id=f"fs-export-{f.value}",
                                                    size="sm") for f in EXPORTS]
                    download = gr.File(label="Download", elem_id="fs-download")
            seek_time = gr.Number(visible=False)
            run = submit.click(
                ask_video,
                [video, source, question, temporal_on, timestamps_on, deepstack_on, granularity, fps, max_frames,
                 chat, state],
                [chat, table, timeline, state, notes],
            )
            stop.click(None, cancels=[run])
            table.select(seek_to, [state], [seek_time]).then(None, [seek_time], [seek_time], js=SEEK_JS)
            for button, fmt in zip(export_buttons, EXPORTS):
                button.click(do_export, [state, gr.State(fmt.value)], [download])
        with gr.Tab("Image Inference"):
            image = gr.Image(type="filepath", label="Image")
            image_question = gr.Textbox(label="Question", lines=2)
            image_submit = gr.Button("Submit", variant="primary")
            image_answer = gr.Textbox(label="Answer", interactive=False)
            image_submit.click(ask_image, [image, image_question], [image_answer])
    return page


def _message(exc: Exception) -> str:
    if isinstance(exc, FramestampError) and getattr(exc, "code", None) == "engine_unavailable":
        return "The model is not reachable right now (it may be starting); try again in a few seconds."
    return str(getattr(exc, "message", None) or exc)


def create_app(config: UIConfig):
    """The page, mounted at / on a FastAPI app that also answers /api/predict."""
    app = FastAPI(title="framestamp web UI")
    client = _client(config)

    @app.post("/api/predict")
    async def predict(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError('the body must be {"data": [history, video, prompt, stream, options]}')
            lines = await run_in_threadpool(seed_predict, config, client, body.get("data"))
        except ValueError as exc:  # includes malformed JSON
            return JSONResponse({"error": {"message": str(exc), "type": "invalid_request_error"}}, status_code=400)
        except FramestampError as exc:
            status = getattr(exc, "status_code", 502)
            return JSONResponse({"error": {"message": _message(exc), "code": getattr(exc, "code", None)}},
                                status_code=status)
        return JSONResponse({"data": lines})

    return gr.mount_gradio_app(app, create_ui(config), path="/", css=CSS,
                               allowed_paths=[str(config.media_dir)] if config.media_dir else None)
