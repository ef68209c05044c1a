"""The registry of served resource types: built-in (resources.py, groups.py) and CRDs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from .groups import EXTRA
from .resources import BUILTIN, ResourceType


@dataclass
class Registry:
    """Served resource types by group/version/resource and by kind; CRDs add to it at run time."""

    _by_gvr: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def builtin(cls) -> Registry:
        """A registry holding the built-in types (with the extra groups of groups.py)."""
        reg = cls()
        for rt in (*BUILTIN, *EXTRA):
            reg.add(rt)
        return reg

    def add(self, rt: ResourceType) -> None:
        """Serve ``rt`` from now on."""
        with self._lock:
            self._by_gvr[(rt.group, rt.version, rt.resource)] = rt

    def remove(self, group: str, version: str, resource: str) -> None:
        """Stop serving a type (a deleted CRD)."""
        with self._lock:
            self._by_gvr.pop((group, version, resource), None)

    def get(self, group: str, version: str, resource: str) -> ResourceType | None:
        """The type served at ``/apis/group/version/resource`` (``group`` empty for core)."""
        return self._by_gvr.get((group, version, resource))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """The type of an object with ``apiVersion`` and ``kind``."""
        group, _, version = api_version.rpartition("/")
        for rt in self._by_gvr.values():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None

    def core(self, resource: str) -> ResourceType:
        """A core v1 type by plural (``pods``); KeyError if unknown."""
        return self._by_gvr[("", "v1", resource)]

    def lookup(self, group: str, resource: str) -> ResourceType:
        """A type by group and plural at its served version; KeyError if unknown."""
        for rt in self._by_gvr.values():
            if rt.group == group and rt.resource == resource:
                return rt
        raise KeyError(f"{resource}.{group}")

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(list(self._by_gvr.values()))

    def groups(self) -> dict[str, list[str]]:
        """Served group -> versions (core group excluded)."""
        out: dict[str, list[str]] = {}
        for rt in self:
            if rt.group and rt.version not in out.setdefault(rt.group, []):
                out[rt.group].append(rt.version)
        return out
