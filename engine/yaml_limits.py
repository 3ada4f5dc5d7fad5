"""Bounds on YAML structure, enforced before a deep node tree can be built.

libyaml's composer recurses in C once per nesting level and crashes the process on a few
thousand levels; PyYAML's pure-Python one hits the recursion limit. The parser underneath is a
state machine, so walking its events is linear and safe at any depth, and a composer that counts
its own depth stops at the limit.
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

_COLLECTION_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_NO_KEY = object()


class TooMany(ValueError):
    """A YAML text holds more values than allowed."""

    def __init__(self, line: int, limit: int) -> None:
        super().__init__(f"more than {limit:,} values (at line {line})")
        self.line = line
        self.limit = limit


class TooDeep(ValueError):
    """A YAML text nests collections deeper than allowed."""

    def __init__(self, line: int, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels at line {line}")
        self.line = line
        self.limit = limit


class AliasUsed(ValueError):
    """A YAML text refers back to an anchored node (`*name`) where aliases are refused."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"YAML alias at line {line}, column {column}")
        self.line = line
        self.column = column


def check_nesting(text: str, max_depth: int) -> None:
    """Raise TooDeep at the first collection nested more than `max_depth` levels deep.
    Malformed YAML raises the parser's yaml.YAMLError."""
    depth = 0
    for event in yaml.parse(text, Loader=_SafeParserLoader):
        if isinstance(event, _COLLECTION_START):
            depth += 1
            if depth > max_depth:
                raise TooDeep(event.start_mark.line + 1, max_depth)
        elif isinstance(event, _COLLECTION_END):
            depth -= 1


class BoundedComposer(Composer):
    """PyYAML's composer made iterative (an explicit stack of open collections, no recursion): TooDeep past
    `max_depth`, TooMany past `max_nodes` values, AliasUsed unless `allow_aliases`. Put it first among a loader's bases so that it replaces the
    parser's own (C) composer. Path resolvers (yaml.add_path_resolver) are not supported."""

    max_depth = 32
    max_nodes: int | None = None  # values (scalars and collections) in one document; counted before each is built
    allow_aliases = True

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        open_nodes: list[list] = []  # [collection node, its key still waiting for a value]
        built = 0
        while True:
            event = self.get_event()
            if self.max_nodes is not None and isinstance(event, (yaml.ScalarEvent, *_COLLECTION_START)):
                built += 1
                if built > self.max_nodes:
                    raise TooMany(event.start_mark.line + 1, self.max_nodes)
            if isinstance(event, yaml.ScalarEvent):
                node = yaml.ScalarNode(
                    self._tag(event, yaml.ScalarNode), event.value, event.start_mark, event.end_mark, style=event.style
                )
                self._register(event, node)
            elif isinstance(event, _COLLECTION_START):
                if len(open_nodes) >= self.max_depth:
                    raise TooDeep(event.start_mark.line + 1, self.max_depth)
                kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
                node = kind(self._tag(event, kind), [], event.start_mark, None, flow_style=event.flow_style)
                self._register(event, node)
                open_nodes.append([node, _NO_KEY])
                continue
            elif isinstance(event, _COLLECTION_END):
                node = open_nodes.pop()[0]
                node.end_mark = event.end_mark
            else:
                node = self._aliased(event)
            if not open_nodes:
                return node
            collection = open_nodes[-1]
            if isinstance(collection[0], yaml.SequenceNode):
                collection[0].value.append(node)
            elif collection[1] is _NO_KEY:
                collection[1] = node
            else:
                collection[0].value.append((collection[1], node))
                collection[1] = _NO_KEY

    def _tag(self, event: yaml.NodeEvent, kind: type[yaml.Node]) -> str:
        if event.tag is None or event.tag == "!":
            return self.resolve(kind, getattr(event, "value", None), event.implicit)
        return event.tag

    def _register(self, event: yaml.NodeEvent, node: yaml.Node) -> None:
        if event.anchor is None:
            return
        if event.anchor in self.anchors:
            raise ComposerError(
                f"found duplicate anchor {event.anchor!r}; first occurrence", self.anchors[event.anchor].start_mark,
                "second occurrence", event.start_mark,
            )
        self.anchors[event.anchor] = node

    def _aliased(self, event: yaml.AliasEvent) -> yaml.Node:
        if not self.allow_aliases:
            raise AliasUsed(event.start_mark.line + 1, event.start_mark.column + 1)
        if event.anchor not in self.anchors:
            raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
        return self.anchors[event.anchor]


if hasattr(yaml, "CSafeLoader"):
    _SafeParserLoader = yaml.CSafeLoader

    class BoundedSafeLoader(BoundedComposer, yaml.cyaml.CParser, SafeConstructor, Resolver):
        """yaml.CSafeLoader (libyaml's parser) with the bounded composer."""

        def __init__(self, stream: str | bytes) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # PyYAML built without libyaml
    _SafeParserLoader = yaml.SafeLoader

    class BoundedSafeLoader(BoundedComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        """yaml.SafeLoader with the bounded composer."""


def key_lines(text: str) -> dict[tuple, int]:
    """The line (from 1) where each entry of a YAML document is written, by its path of mapping keys and list
    indexes: `("company_rules", 0, "when")`. Read from the parser's events, so any depth is safe."""
    lines: dict[tuple, int] = {}
    stack: list[list] = []  # [is_mapping, path, next index or the pending key (_NO_KEY while a key is expected)]
    for event in yaml.parse(text, Loader=_SafeParserLoader):
        if not isinstance(event, (*_COLLECTION_START, yaml.ScalarEvent, yaml.AliasEvent)):
            if isinstance(event, _COLLECTION_END):
                stack.pop()
            continue
        path: tuple = ()
        if stack:
            top = stack[-1]
            if not top[0]:
                path = (*top[1], top[2])
                top[2] += 1
                lines[path] = event.start_mark.line + 1
            elif top[2] is _NO_KEY:
                top[2] = event.value if isinstance(event, yaml.ScalarEvent) else None
                lines.setdefault((*top[1], top[2]), event.start_mark.line + 1)
                if isinstance(event, _COLLECTION_START):  # a complex key: its contents have no path of their own
                    mapping = isinstance(event, yaml.MappingStartEvent)
                    stack.append([mapping, (*top[1], "?"), _NO_KEY if mapping else 0])
                continue
            else:
                path = (*top[1], top[2])
                top[2] = _NO_KEY
        if isinstance(event, _COLLECTION_START):
            mapping = isinstance(event, yaml.MappingStartEvent)
            stack.append([mapping, path, _NO_KEY if mapping else 0])
    return lines


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line (from key_lines) of the deepest part of `path` written in the document, or None."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def repeated_key(text: str) -> tuple[int, str] | None:
    """(line, key) of the first key written twice in one mapping (YAML would keep the last silently), or None."""
    stack: list[list] = []  # [is_mapping, keys seen, expecting a key]
    for event in yaml.parse(text, Loader=_SafeParserLoader):
        if isinstance(event, _COLLECTION_END):
            stack.pop()
            continue
        if not isinstance(event, (*_COLLECTION_START, yaml.ScalarEvent, yaml.AliasEvent)):
            continue
        top = stack[-1] if stack else None
        if top is not None and top[0]:
            if top[2]:
                if isinstance(event, yaml.ScalarEvent):
                    if event.value in top[1]:
                        return event.start_mark.line + 1, event.value
                    top[1].add(event.value)
                top[2] = False
            else:
                top[2] = True
        if isinstance(event, _COLLECTION_START):
            stack.append([isinstance(event, yaml.MappingStartEvent), set(), True])
    return None
