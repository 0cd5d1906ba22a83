"""The web page on the real stack: the seed's /api/predict script, and a browser.

The browser test drives Debian's Chromium with Playwright: upload a clip,
tick the options, submit, read the answer and the events table, click an
event and check the player moved to it, download an SRT. Screenshots go to
artifacts/ (README's screenshot comes from here).
"""

import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ADAPTER_KEY, ARTIFACTS, ServerThread

pytestmark = pytest.mark.engine
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium flags for a closed sandboxed machine (no background traffic, no GPU).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The seed tutorial's client, as users have it; only the address differs.
SEED_SCRIPT = textwrap.dedent("""
    import requests

    url = "{url}/api/predict"
    data = {{
        "data": [
            [],
            "{video}",
            "视频中人物什么时候进入房间？",
            False,
            {{"enable_temporal_modeling": True, "return_timestamps": True, "use_deepstack": True{extra}}},
        ]
    }}
    result = requests.post(url, json=data).json()
    print(result['data'])
""")


@pytest.fixture(scope="module")
def ui(adapter, clip_dir):
    from framestamp.serving.webui import UIConfig, create_app

    # Structured answers make the random test model's events parseable, so
    # the page has rows to click.
    config = UIConfig(adapter_url=f"{adapter.url}/v1", api_key=ADAPTER_KEY, media_dir=clip_dir, max_tokens=600,
                      answer_format="json", min_events=1, max_events=2, temperature=0.0)
    with ServerThread(create_app(config)) as server:
        yield server


@pytest.mark.parametrize("extra", ["", ', "temporal_granularity": "subsecond"'])
def test_seed_predict_script_runs_unchanged(ui, vfr_clip, extra):
    script = SEED_SCRIPT.format(url=ui.url, video=vfr_clip.path, extra=extra)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = eval(done.stdout.strip())  # the script prints a Python list
    assert isinstance(lines, list) and all(isinstance(line, str) for line in lines)
    event_lines = [line for line in lines if line.startswith("- ")]
    assert event_lines  # structured answers always carry events
    clock = r"\d\d:\d\d:\d\d\.\d{3}" if extra else r"\d\d:\d\d:\d\d(?!\.)"
    assert all(re.search(clock, line) for line in event_lines), lines


def test_seed_predict_rejects_paths_outside_the_media_dir(ui):
    import httpx

    response = httpx.post(f"{ui.url}/api/predict", json={"data": [[], "/etc/passwd", "q", False, {}]}, timeout=60)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "media_path_forbidden"


def test_browser_upload_ask_seek_and_export(ui, vfr_clip):
    from playwright.sync_api import sync_playwright

    shots = ARTIFACTS / "webui"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(ui.url)
            page.set_input_files("#fs-player input[type=file]", str(vfr_clip.path))
            page.wait_for_selector("#fs-player video", timeout=60_000)
            page.fill("#fs-question textarea", "When does the colour change?")
            for box in ("#fs-temporal", "#fs-timestamps", "#fs-deepstack"):
                checkbox = page.locator(f"{box} input[type=checkbox]")
                checkbox.uncheck()
                checkbox.check()
            page.locator("#fs-granularity input[value=subsecond]").check()
            page.click("#fs-submit")
            # Gradio's table renders its visible cells as div.body-cell (a hidden
            # sizing table repeats them); the start column holds HH:MM:SS.mmm.
            starts = page.locator("#fs-events .body-cell").filter(
                has_text=re.compile(r"^\s*\d\d:\d\d:\d\d\.\d{3}\s*$"))
            starts.first.wait_for(timeout=240_000)
            page.wait_for_function("document.querySelectorAll('#fs-chat .message').length >= 2", timeout=60_000)
            page.screenshot(path=str(shots / "answer.png"), full_page=True)

            hours, minutes, secs = starts.first.inner_text().strip().split(":")
            seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
            starts.first.click()
            page.wait_for_function(
                f"Math.abs(document.querySelector('#fs-player video').currentTime - {seconds}) < 0.05",
                timeout=30_000,
            )

            page.click("#fs-export-srt")
            link = page.locator("#fs-download a").first
            link.wait_for(timeout=30_000)
            with page.expect_download() as download_info:
                link.click()
            srt_text = download_info.value.path().read_text(encoding="utf-8")
            page.screenshot(path=str(shots / "exported.png"), full_page=True)
        finally:
            browser.close()
    import srt

    subtitles = list(srt.parse(srt_text))
    assert len(subtitles) >= 1
    assert any(abs(s.start.total_seconds() - seconds) < 1e-3 for s in subtitles)


def test_page_api_is_usable_from_gradio_client(ui, tmp_path):
    from gradio_client import Client, handle_file
    from PIL import Image

    image = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (220, 30, 30)).save(image)
    client = Client(ui.url, verbose=False)
    assert "/ask_image" in client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    answer = client.predict(handle_file(str(image)), "What colour is this?", api_name="/ask_image")
    assert isinstance(answer, str)
