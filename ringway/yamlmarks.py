"""YAML loading that remembers where every key came from.

Configuration errors must name the file, the line and the key. PyYAML's node
tree carries line marks; we walk it once and keep a map from key path (a tuple
of mapping keys and list indexes) to the 1-based line of that value.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml

Path = tuple[Hashable, ...]


class YamlSyntaxError(ValueError):
    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line, self.problem = line, problem


def load_with_marks(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse ``text``; return the data and a key-path -> line map."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = None if mark is None else mark.line + 1
        raise YamlSyntaxError(line, f"YAML syntax: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(None, f"YAML syntax: {exc}") from None
    marks: dict[Path, int] = {}
    if node is not None:
        _walk(node, (), marks)
    return data, marks


def _walk(node: yaml.Node, path: Path, marks: dict[Path, int]) -> None:
    marks[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            marks[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), marks)
            marks[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), marks)


def line_of(marks: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        line = marks.get(tuple(path[:end]))
        if line is not None:
            return line
    return None
