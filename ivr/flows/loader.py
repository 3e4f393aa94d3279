"""Load and cross-check an IVR flow file; every problem is ``file:line: key: problem``.

Located exactly as `ringway.config` locates configuration errors (the line
marks come from `ringway.yamlmarks`). Beyond the per-node schema
(`ivr.flows.nodes`) the loader rejects: references to nodes or flows that do
not exist, queues missing from the service configuration (when the caller
passes the queue names), prompts missing from the prompt catalogue
(`ivr/media/prompts/catalog.txt`), and a flow set without a ``*`` entry, so
that every call reaching the edge has a flow.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ivr.flows.errors import FlowError
from ivr.flows.model import DEFAULT_ENTRY, Flow, FlowSet, Limits
from ivr.flows.nodes import NODE_TYPES, AnyNode, CallbackNode, RouteNode, keys_as_text
from ivr.flows.prompts import catalogue_names
from ringway.yamlmarks import YamlSyntaxError, line_of, load_with_marks

KeyPath = tuple[Hashable, ...]


class _LimitsDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_hops: int = Field(50, ge=1, le=10_000)
    max_nodes: int = Field(500, ge=1, le=100_000)
    max_prompt_s: float = Field(300.0, gt=0)


class _FlowDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str
    nodes: dict[str, Any] = Field(min_length=1)


class _FlowSetDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entries: Annotated[dict[str, str], BeforeValidator(keys_as_text)] = Field(min_length=1)
    limits: _LimitsDoc = _LimitsDoc()
    flows: dict[str, _FlowDoc] = Field(min_length=1)


def load_flows(
    path: str | Path,
    *,
    queues: Collection[str] | None = None,
    prompts: Collection[str] | None = None,
) -> FlowSet:
    """Load ``path``. ``queues``: the service's queue names (unchecked if None);
    ``prompts``: known prompt names (default: the prompt catalogue)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FlowError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    return load_flows_text(text, str(path), queues=queues, prompts=prompts)


def load_flows_text(
    text: str,
    source: str = "<flows>",
    *,
    queues: Collection[str] | None = None,
    prompts: Collection[str] | None = None,
) -> FlowSet:
    try:
        data, marks = load_with_marks(text)
    except YamlSyntaxError as exc:
        raise FlowError(source, exc.line, "", exc.problem) from None
    if not isinstance(data, dict):
        raise FlowError(source, 1, "", "the file must be a mapping (entries, flows)")
    checker = _Checker(source, marks, queues, catalogue_names() if prompts is None else prompts)
    return checker.flow_set(data)


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Checker:
    def __init__(
        self,
        source: str,
        marks: dict[KeyPath, int],
        queues: Collection[str] | None,
        prompts: Collection[str],
    ) -> None:
        self.source, self.marks = source, marks
        self.queues = None if queues is None else frozenset(queues)
        self.prompts = frozenset(prompts)

    def fail(self, path: KeyPath, problem: str) -> FlowError:
        return FlowError(self.source, line_of(self.marks, path), dotted(path), problem)

    def schema(self, model: type[BaseModel], data: object, at: KeyPath) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            inner = tuple(p for p in first["loc"] if p != "[key]")
            more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
            raise self.fail((*at, *inner), first["msg"] + more) from None

    def flow_set(self, data: dict[str, Any]) -> FlowSet:
        doc: _FlowSetDoc = self.schema(_FlowSetDoc, data, ())
        flows = {name: self.flow(name, flow) for name, flow in doc.flows.items()}
        if DEFAULT_ENTRY not in doc.entries:
            raise self.fail(("entries",), "a default entry '*' is required")
        for user, flow_name in doc.entries.items():
            if flow_name not in flows:
                known = ", ".join(flows)
                raise self.fail(("entries", user), f"unknown flow {flow_name!r} (flows: {known})")
        limits = Limits(**doc.limits.model_dump())
        return FlowSet(source=self.source, flows=flows, entries=dict(doc.entries), limits=limits)

    def flow(self, name: str, doc: _FlowDoc) -> Flow:
        at: KeyPath = ("flows", name)
        nodes = {key: self.node((*at, "nodes", key), raw) for key, raw in doc.nodes.items()}
        if doc.start not in nodes:
            raise self.fail((*at, "start"), f"unknown node {doc.start!r}")
        for key, node in nodes.items():
            self.check_refs((*at, "nodes", key), node, nodes)
        return Flow(name=name, start=doc.start, nodes=nodes)

    def node(self, at: KeyPath, raw: object) -> AnyNode:
        if not isinstance(raw, dict):
            raise self.fail(at, "a node must be a mapping with a 'type'")
        for key in raw:
            if not isinstance(key, str):  # YAML 1.1 reads on/off/yes/no/y/n as booleans
                raise self.fail(at, f"key {key!r} is not text (quote it)")
        kind = raw.get("type")
        if kind is None:
            raise self.fail(at, f"missing 'type' (one of {', '.join(NODE_TYPES)})")
        if kind not in NODE_TYPES:
            known = ", ".join(NODE_TYPES)
            raise self.fail((*at, "type"), f"unknown node type {kind!r} (one of {known})")
        node: AnyNode = self.schema(NODE_TYPES[kind], raw, at)
        return node

    def check_refs(self, at: KeyPath, node: AnyNode, nodes: Mapping[str, AnyNode]) -> None:
        for path, target in node.targets():
            if target not in nodes:
                raise self.fail((*at, *path), f"unknown node {target!r}")
        for path, prompt in node.prompt_refs():
            if prompt not in self.prompts:
                raise self.fail((*at, *path), f"unknown prompt {prompt!r} (not in the catalogue)")
        if isinstance(node, RouteNode | CallbackNode):
            self.check_queue((*at, "queue"), node.queue)

    def check_queue(self, at: KeyPath, queue: str) -> None:
        if self.queues is not None and queue not in self.queues:
            known = ", ".join(sorted(self.queues))
            raise self.fail(at, f"unknown queue {queue!r} (queues: {known})")
