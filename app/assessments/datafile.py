"""Rule files in workflows/: read YAML into a strict model, report problems by file and path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from app.errors import DefinitionError

Labels = dict[Literal["en", "zh"], str]
Model = TypeVar("Model", bound=BaseModel)


class Strict(BaseModel):
    """Rule blocks refuse unknown keys so that typos surface as errors, not silence."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Both languages are given (the interface is bilingual)."""
    missing = [key for key in ("en", "zh") if not (labels.get(key) or "").strip()]
    if missing:
        raise ValueError(f"label needs both 'en' and 'zh' (missing: {', '.join(missing)})")
    return labels


def loc_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a dotted path with [index] parts."""
    out = ""
    for part in loc:
        text = str(part)
        if isinstance(part, int):
            out += f"[{part}]"
        elif text.startswith(("function-", "union[", "list[", "dict[", "literal[")) or text in {
            "str", "int", "float", "bool", "Condition", "list", "dict", "tagged-union",
        }:
            continue
        else:
            out += ("." if out else "") + text
    return out or "(top)"


def format_errors(origin: str, error: ValidationError) -> list[str]:
    """Pydantic errors as 'file: path: message' lines, each once."""
    problems = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        path = loc_path(tuple(item["loc"]))
        if path == "(top)" and ": " in message:
            # a model-level check names its own paths, several joined by "; "
            problems += [f"{origin}: {part}" for part in message.split("; ")]
            continue
        problems.append(f"{origin}: {path}: {message}")
    return list(dict.fromkeys(problems))


def read_yaml(path: Path, origin: str | None = None) -> Any:
    """The parsed YAML of a file, or DefinitionError naming file, line and column."""
    origin = origin or path.name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError([f"{origin}: cannot read: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([f"{origin}: {where}malformed YAML: {problem}"]) from exc


def parse_model(data: Any, model: type[Model], origin: str) -> Model:
    """Validate parsed YAML against a model; DefinitionError lists every problem."""
    if not isinstance(data, dict):
        raise DefinitionError([f"{origin}: (top): the file must be a mapping"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(format_errors(origin, exc)) from exc


def first_key_files(directory: Path, key: str) -> list[Path]:
    """The YAML files below a directory whose first key is `key:` (sorted)."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.MULTILINE)
    found = []
    for path in sorted(directory.rglob("*.yaml")):
        try:
            head = path.read_text(encoding="utf-8")[:4000]
        except OSError:
            continue
        first = next((line for line in head.splitlines()
                      if line.strip() and not line.lstrip().startswith("#")), "")
        if pattern.match(first):
            found.append(path)
    return found


def signature(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """What identifies the current content of some files (path, mtime, size)."""
    out = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)
