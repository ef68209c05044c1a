"""Fast loading of rendered YAML: libyaml composes the nodes, a tight loop builds the objects.

PyYAML's SafeConstructor spends most of a rendered object's parse time in generic machinery
(construct_document, state generators, recursion bookkeeping). Rendered Kubernetes objects are
plain trees of mappings, sequences and scalars, which this module builds directly from the node
tree, calling PyYAML's own constructors for non-string scalars. Anything else (anchors, merge
keys, explicit tags, unhashable keys) falls back to ``yaml.load_all`` itself, so the result is
always the objects that the C safe loader builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS: dict[str, Callable[[Any, yaml.Node], Any]] = {
    f"tag:yaml.org,2002:{name}": SafeConstructor.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("null", "bool", "int", "float", "timestamp", "binary")
}
# Anchors/aliases, merge keys and explicit tags take the general path (false alarms only cost
# speed: a '!' or '&' inside a string value is handled correctly either way).
_GENERAL_MARKERS = ("&", "<<", "!")


_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}
_TAGS_MAX = 8192


class _Loader(LOADER):  # type: ignore[valid-type,misc]
    """The safe loader with implicit scalar tags memoised (rendered objects repeat them)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or not isinstance(value, str):
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_TAGS) >= _TAGS_MAX:
                _TAGS.clear()
            _TAGS[key] = tag
        return tag


class _Fallback(Exception):
    """The document needs PyYAML's general constructor."""


def _build(loader: Any, node: yaml.Node) -> Any:
    cls = node.__class__
    if cls is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        ctor = _SCALARS.get(node.tag)
        if ctor is None:
            raise _Fallback
        return ctor(loader, node)
    if cls is yaml.MappingNode:
        if node.tag != _MAP:
            raise _Fallback
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(loader, key_node)
            value = _build(loader, value_node)
            try:
                out[key] = value
            except TypeError:  # unhashable key: let PyYAML report it
                raise _Fallback from None
        return out
    if cls is yaml.SequenceNode:
        if node.tag != _SEQ:
            raise _Fallback
        return [_build(loader, item) for item in node.value]
    raise _Fallback


def load_all(text: str) -> list[Any]:
    """Every document of ``text``, equal to ``list(yaml.load_all(text, Loader=LOADER))``."""
    if not any(marker in text for marker in _GENERAL_MARKERS):
        loader = _Loader(text)
        try:
            docs = []
            while loader.check_node():
                docs.append(_build(loader, loader.get_node()))
            return docs
        except _Fallback:
            pass
        finally:
            loader.dispose()
    return list(yaml.load_all(text, Loader=LOADER))
