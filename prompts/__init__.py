"""Prompt templates for temporal tasks, kept as data files beside this module.

- `formats.toml`: the answer-format instruction per granularity and language,
  in a text form (lines of "- description: HH:MM:SS") and a JSON form (for
  structured output). The adapter puts it in the system message.
- `tasks.toml`: the question for each task (find a moment, list actions,
  dense captions, chapters, count, highlights), in English and Chinese.

`load_prompts()` reads and validates both (every granularity and task has
every language, placeholders are known), so a broken file fails at start-up,
not in the middle of a request. Users add directories of their own *.toml
files: a `formats.toml` there replaces entries of the built-in one, and
tasks with a built-in name replace it.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from framestamp.serving.events import DEFAULT_COARSE_BUCKET, Granularity

PROMPTS_DIR = Path(__file__).parent
LANGUAGES = ("en", "zh")
STYLES = ("text", "json")
EXAMPLE_QUERIES = {"en": "a person enters the room", "zh": "人物进入房间"}


class PromptError(ValueError):
    """A prompt file that is missing, malformed or incomplete."""


@dataclass(frozen=True)
class FormatInstructions:
    # style -> granularity -> language -> template
    by_style: Mapping[str, Mapping[Granularity, Mapping[str, str]]]

    def instruction(
        self, granularity: Granularity, language: str = "en", *,
        bucket: float = DEFAULT_COARSE_BUCKET, style: str = "text",
    ) -> str:
        texts = self.by_style[style][granularity]
        template = texts.get(language) or texts["en"]
        return template.format(bucket=f"{bucket:g}")


@dataclass(frozen=True)
class TaskPrompt:
    name: str
    description: str
    needs_query: bool
    texts: Mapping[str, str]

    def question(self, language: str = "en", query: str | None = None) -> str:
        if self.needs_query and not (query and query.strip()):
            raise PromptError(f"the {self.name!r} task needs a query (what to look for)")
        template = self.texts.get(language) or self.texts["en"]
        return template.format(query=(query or "").strip())


@dataclass(frozen=True)
class PromptLibrary:
    formats: FormatInstructions
    tasks: Mapping[str, TaskPrompt] = field(default_factory=dict)

    def task(self, name: str) -> TaskPrompt:
        try:
            return self.tasks[name]
        except KeyError:
            raise PromptError(f"no task named {name!r}; known: {', '.join(sorted(self.tasks))}") from None

    def question(self, task: str, language: str = "en", query: str | None = None) -> str:
        return self.task(task).question(language, query)

    def examples(self, language: str = "en", query: str | None = None) -> list[str]:
        """One ready question per task, for the web page's example box."""
        query = query or EXAMPLE_QUERIES.get(language, EXAMPLE_QUERIES["en"])
        return [task.question(language, query if task.needs_query else None) for task in self.tasks.values()]


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PromptError(f"cannot read {path}: {exc}") from None


def _check_text(where: str, text: object, allowed: set[str]) -> str:
    if not isinstance(text, str) or not text.strip():
        raise PromptError(f"{where} is missing or empty")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None and f != ""}
    except ValueError as exc:
        raise PromptError(f"{where}: {exc}") from None
    if fields - allowed:
        raise PromptError(f"{where} uses unknown placeholders {sorted(fields - allowed)}; allowed: {sorted(allowed)}")
    return text


def _merge_formats(path: Path, data: dict, table: dict[str, dict[Granularity, dict[str, str]]], *, complete: bool) -> None:
    for style in STYLES:
        styled = data.get(style, {})
        if not isinstance(styled, dict):
            raise PromptError(f"{path}: [{style}] must be a table")
        for granularity in Granularity:
            texts = styled.get(granularity.value)
            if texts is None and not complete:
                continue
            if not isinstance(texts, dict):
                raise PromptError(f"{path}: no [{style}.{granularity.value}] table")
            target = table.setdefault(style, {}).setdefault(granularity, {})
            for language in LANGUAGES:
                if language in texts or complete:
                    where = f"{path}: [{style}.{granularity.value}].{language}"
                    target[language] = _check_text(where, texts.get(language), {"bucket"})


def _read_tasks(path: Path, data: dict) -> dict[str, TaskPrompt]:
    tasks = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise PromptError(f"{path}: {name} must be a table")
        needs_query = entry.get("needs_query", False)
        if not isinstance(needs_query, bool):
            raise PromptError(f"{path}: [{name}].needs_query must be true or false")
        allowed = {"query"} if needs_query else set()
        texts = {lang: _check_text(f"{path}: [{name}].{lang}", entry.get(lang), allowed) for lang in LANGUAGES}
        if needs_query and not all("{query}" in text for text in texts.values()):
            raise PromptError(f"{path}: [{name}] needs a query but a text has no {{query}}")
        tasks[name] = TaskPrompt(name, str(entry.get("description", name)), needs_query, MappingProxyType(texts))
    return tasks


def load_prompts(extra_dirs: Iterable[Path | str] = ()) -> PromptLibrary:
    """The built-in prompts, with users' directories layered on top in order."""
    formats: dict[str, dict[Granularity, dict[str, str]]] = {}
    _merge_formats(PROMPTS_DIR / "formats.toml", _read_toml(PROMPTS_DIR / "formats.toml"), formats, complete=True)
    tasks = _read_tasks(PROMPTS_DIR / "tasks.toml", _read_toml(PROMPTS_DIR / "tasks.toml"))
    for directory in map(Path, extra_dirs):
        if not directory.is_dir():
            raise PromptError(f"prompt directory {directory} does not exist")
        for path in sorted(directory.glob("*.toml")):
            data = _read_toml(path)
            if path.name == "formats.toml":
                _merge_formats(path, data, formats, complete=False)
            else:
                tasks |= _read_tasks(path, data)
    frozen = {
        style: MappingProxyType({g: MappingProxyType(t) for g, t in by_g.items()}) for style, by_g in formats.items()
    }
    return PromptLibrary(FormatInstructions(MappingProxyType(frozen)), MappingProxyType(tasks))


def load_formats(extra_dirs: Iterable[Path | str] = ()) -> FormatInstructions:
    return load_prompts(extra_dirs).formats
