"""Prompt templates for temporal tasks, kept as data files beside this module.

`load_formats()` reads and validates them (every granularity has every
language, placeholders are known), so a broken file fails at start-up, not
in the middle of a request.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from framestamp.serving.events import DEFAULT_COARSE_BUCKET, Granularity

PROMPTS_DIR = Path(__file__).parent
LANGUAGES = ("en", "zh")
_ALLOWED_FIELDS = {"bucket"}


class PromptError(ValueError):
    """A prompt file that is missing, malformed or incomplete."""


@dataclass(frozen=True)
class FormatInstructions:
    by_granularity: dict[Granularity, dict[str, str]]

    def instruction(
        self, granularity: Granularity, language: str = "en", *, bucket: float = DEFAULT_COARSE_BUCKET
    ) -> str:
        texts = self.by_granularity[granularity]
        template = texts.get(language) or texts["en"]
        return template.format(bucket=f"{bucket:g}")


def load_formats(directory: Path = PROMPTS_DIR) -> FormatInstructions:
    path = directory / "formats.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PromptError(f"cannot read {path}: {exc}") from None
    table: dict[Granularity, dict[str, str]] = {}
    for granularity in Granularity:
        texts = data.get(granularity.value)
        if not isinstance(texts, dict):
            raise PromptError(f"{path}: no [{granularity.value}] table")
        for language in LANGUAGES:
            text = texts.get(language)
            if not isinstance(text, str) or not text.strip():
                raise PromptError(f"{path}: [{granularity.value}] has no {language!r} text")
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            if fields - _ALLOWED_FIELDS:
                raise PromptError(f"{path}: [{granularity.value}].{language} uses unknown {sorted(fields - _ALLOWED_FIELDS)}")
        table[granularity] = dict(texts)
    return FormatInstructions(table)
