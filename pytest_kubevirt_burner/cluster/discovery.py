"""API discovery: which resources a cluster serves, and how to address them."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import ApiError, UnknownKindError


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One served resource: group/version, plural name, kind, scope and subresources."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    subresources: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, else ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def base_path(self) -> str:
        """``/api/v1`` or ``/apis/<group>/<version>``."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        """Collection or object URL path; a namespaced kind without namespace = all namespaces."""
        parts = [self.base_path()]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name is not None:
            parts.append(quote(name, safe=""))
            if sub:
                parts.append(sub)
        return "/".join(parts)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return group, version


Fetch = Callable[[str], Any]


class Discovery:
    """Thread-safe, cached discovery of every group/version served by a cluster."""

    def __init__(self, fetch: Fetch, *, parallelism: int = 8) -> None:
        self._fetch = fetch
        self._parallelism = parallelism
        self._lock = threading.RLock()
        self._by_gv: dict[str, dict[str, ResourceInfo]] | None = None
        self.failed: dict[str, str] = {}
        """Group/versions whose discovery failed (aggregated APIs that are down), with reason."""

    def _resources(self, api_version: str) -> dict[str, ResourceInfo]:
        group, version = split_api_version(api_version)
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        body = self._fetch(path)
        found: dict[str, ResourceInfo] = {}
        subs: dict[str, set[str]] = {}
        for res in body.get("resources") or []:
            name = str(res.get("name", ""))
            if "/" in name:
                parent, _, sub = name.partition("/")
                subs.setdefault(parent, set()).add(sub)
                continue
            found[name] = ResourceInfo(
                group=group,
                version=version,
                plural=name,
                kind=str(res.get("kind", "")),
                namespaced=bool(res.get("namespaced", False)),
                verbs=frozenset(res.get("verbs") or ()),
            )
        by_kind: dict[str, ResourceInfo] = {}
        for plural, info in found.items():
            full = ResourceInfo(
                info.group,
                info.version,
                info.plural,
                info.kind,
                info.namespaced,
                frozenset(subs.get(plural, ())),
                info.verbs,
            )
            by_kind.setdefault(info.kind, full)
        return by_kind

    def _load_all(self) -> dict[str, dict[str, ResourceInfo]]:
        versions: list[str] = []
        try:
            core = self._fetch("/api")
            versions += [str(v) for v in core.get("versions") or []]
        except ApiError as exc:
            if exc.status != 404:
                raise
        groups = self._fetch("/apis")
        for group in groups.get("groups") or []:
            versions += [str(v["groupVersion"]) for v in group.get("versions") or []]
        result: dict[str, dict[str, ResourceInfo]] = {}
        failed: dict[str, str] = {}

        def one(gv: str) -> None:
            try:
                result[gv] = self._resources(gv)
            except ApiError as exc:
                failed[gv] = f"{exc.status} {exc.reason}"

        with ThreadPoolExecutor(self._parallelism, thread_name_prefix="discovery") as pool:
            for future in [pool.submit(one, gv) for gv in dict.fromkeys(versions)]:
                error = future.exception()
                if error is not None:
                    raise error
        self.failed = failed
        return result

    def discover(self, refresh: bool = False) -> dict[str, dict[str, ResourceInfo]]:
        """Every served group/version -> {kind: ResourceInfo}; cached until ``refresh``."""
        with self._lock:
            if self._by_gv is None or refresh:
                self._by_gv = self._load_all()
            return self._by_gv

    def resource_for(self, api_version: str, kind: str) -> ResourceInfo:
        """Look up a kind; refetch its group/version once on a miss (CRDs created late)."""
        with self._lock:
            by_gv = self.discover()
            info = by_gv.get(api_version, {}).get(kind)
            if info is not None:
                return info
            try:
                by_gv[api_version] = self._resources(api_version)
            except ApiError as exc:
                if exc.status != 404:
                    raise
            info = by_gv.get(api_version, {}).get(kind)
            if info is not None:
                return info
            if not by_gv.get(api_version):
                by_gv.pop(api_version, None)
            raise UnknownKindError(self._unknown_message(by_gv, api_version, kind))

    @staticmethod
    def _unknown_message(
        by_gv: dict[str, dict[str, ResourceInfo]], api_version: str, kind: str
    ) -> str:
        elsewhere = sorted(gv for gv, kinds in by_gv.items() if kind in kinds)
        if api_version in by_gv:
            base = f"unknown kind '{kind}' in {api_version}"
            close = difflib.get_close_matches(kind, list(by_gv[api_version]), n=1, cutoff=0.6)
            if close:
                return f"{base}; did you mean '{close[0]}'?"
        else:
            base = f"unknown kind '{kind}': apiVersion '{api_version}' is not served"
        if elsewhere:
            return f"{base}; '{kind}' is served as {', '.join(elsewhere)}"
        all_kinds = {k for kinds in by_gv.values() for k in kinds}
        close = difflib.get_close_matches(kind, sorted(all_kinds), n=1, cutoff=0.6)
        if close:
            where = sorted(gv for gv, kinds in by_gv.items() if close[0] in kinds)
            return f"{base}; did you mean '{close[0]}' ({', '.join(where)})?"
        return base
