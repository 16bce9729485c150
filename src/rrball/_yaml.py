"""YAML with line numbers, for files users write by hand (study plans, mapping files).

``read_yaml(text)`` returns the data, a map from YAML paths (``analyses[2].endpoint``) to
1-based lines, and the structural problems found while reading (duplicate keys, keys that are
not plain names, syntax errors) as ``(line, path, message)``; the callers turn them into their
own located errors. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["YamlProblem", "nearest_line", "path_text", "read_yaml"]

YamlProblem = tuple[int | None, str, str]


def path_text(path: Sequence[str | int]) -> str:
    """``("analyses", 2, "endpoint")`` -> ``"analyses[2].endpoint"``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _build(node: yaml.Node, path: tuple[str | int, ...], lines: dict[str, int],
           loader: yaml.SafeLoader, problems: list[YamlProblem]) -> Any:
    lines.setdefault(path_text(path), node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            key = loader.construct_object(k_node, deep=True)
            if isinstance(key, (list, dict)):
                problems.append((k_node.start_mark.line + 1, path_text(path),
                                 "a key must be a plain name"))
                continue
            key = key if isinstance(key, str) else str(key)
            if key in out:
                problems.append((k_node.start_mark.line + 1, path_text((*path, key)),
                                 f"duplicate key {key!r}"))
            sub = (*path, key)
            lines[path_text(sub)] = k_node.start_mark.line + 1
            out[key] = _build(v_node, sub, lines, loader, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), lines, loader, problems) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def read_yaml(text: str) -> tuple[Any, dict[str, int], list[YamlProblem]]:
    """(data, lines, problems). Empty text gives ``None`` data and one problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        return None, {}, [(mark.line + 1 if mark is not None else None, "",
                           f"YAML syntax: {exc.problem}")]
    except yaml.YAMLError as exc:
        return None, {}, [(None, "", f"YAML: {exc}")]
    if node is None:
        return None, {}, [(1, "", "the file is empty")]
    lines: dict[str, int] = {}
    problems: list[YamlProblem] = []
    try:
        data = _build(node, (), lines, yaml.SafeLoader(""), problems)
    except yaml.YAMLError as exc:
        return None, lines, [(None, "", f"YAML: {exc}")]
    return data, lines, problems


def nearest_line(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path`` or of its nearest parent (``a.b[2].c`` -> ``a.b[2]`` -> ``a.b``)."""
    p = path
    while p:
        if p in lines:
            return lines[p]
        p = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", p)
    return None
