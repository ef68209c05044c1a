"""Read and write verbs for any kind (get, list, update, patch, delete) as plain dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

from .discovery import ResourceInfo
from .errors import ApiError
from .ratelimit import TokenBucket
from .stats import StatsSink
from .transport import Query, RetryPolicy

Obj = dict[str, Any]


class PatchType(StrEnum):
    """A PATCH flavour; its value is the request's Content-Type (kube-burner's ``patchType``)."""

    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"

    @classmethod
    def parse(cls, value: object) -> PatchType:
        """``merge`` or ``application/merge-patch+json`` -> PatchType.MERGE (ValueError else)."""
        if isinstance(value, cls):
            return value
        text = str(value)
        for member in cls:
            if text in (member.value, member.short):
                return member
        raise ValueError(f"unknown patch type {value!r} ({', '.join(m.short for m in cls)})")

    @property
    def short(self) -> str:
        """``json``, ``merge``, ``strategic`` or ``apply``."""
        return self.name.lower()


class ResourceVerbs:
    """The verbs shared by every kind; ClusterClient supplies the transport and discovery."""

    default_namespace: str

    def _call(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        raise NotImplementedError

    def resource_for(self, api_version: str, kind: str) -> ResourceInfo:
        """Resolve apiVersion/kind through discovery."""
        raise NotImplementedError

    def _ns(self, info: ResourceInfo, namespace: str | None) -> str | None:
        if not info.namespaced:
            return None
        return namespace or self.default_namespace

    def get(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Obj:
        """GET one object."""
        info = self.resource_for(api_version, kind)
        path = info.path(self._ns(info, namespace), name)
        result: Obj = self._call("GET", path, verb="get", limiter=limiter, stats=stats)
        return result

    def iter_pages(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Iterator[tuple[list[Obj], str]]:
        """Yield (items, list resourceVersion) page by page, following continue tokens.

        ``namespace=None`` lists a namespaced kind across all namespaces. Items get their
        apiVersion/kind filled in (list responses omit them).
        """
        info = self.resource_for(api_version, kind)
        path = info.path(namespace if info.namespaced else None)
        base: Query = [("limit", str(limit))] if limit > 0 else []
        if label_selector:
            base.append(("labelSelector", label_selector))
        if field_selector:
            base.append(("fieldSelector", field_selector))
        token = ""
        while True:
            query = [*base, ("continue", token)] if token else base
            body = self._call("GET", path, verb="list", query=query, limiter=limiter, stats=stats)
            items: list[Obj] = body.get("items") or []
            for item in items:
                item.setdefault("apiVersion", info.api_version)
                item.setdefault("kind", info.kind)
            meta = body.get("metadata") or {}
            token = str(meta.get("continue") or "")
            rv = str(meta.get("resourceVersion") or "")
            del body, meta  # only the caller's reference keeps a page alive during the next GET
            yield items, rv
            del items
            if not token:
                return

    def list_with_rv(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> tuple[list[Obj], str]:
        """All matching objects and the list's resourceVersion; restarts if a token expires."""
        items: list[Obj] = []
        rv = ""

        def restart() -> None:
            nonlocal rv
            items.clear()
            rv = ""

        def add(page: list[Obj], page_rv: str) -> None:
            nonlocal rv
            items.extend(page)
            rv = page_rv

        self._each_page(
            restart,
            add,
            api_version,
            kind,
            namespace,
            label_selector,
            field_selector,
            limit,
            limiter,
            stats,
        )
        return items, rv

    def _each_page(
        self,
        restart: Callable[[], None],
        add: Callable[[list[Obj], str], None],
        api_version: str,
        kind: str,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        limit: int,
        limiter: TokenBucket | None,
        stats: StatsSink | None,
    ) -> None:
        """Feed every page to ``add``; when a continue token expires, ``restart`` and relist."""
        for attempt in range(3):
            restart()
            try:
                for page, page_rv in self.iter_pages(
                    api_version,
                    kind,
                    namespace,
                    label_selector,
                    field_selector,
                    limit,
                    limiter=limiter,
                    stats=stats,
                ):
                    add(page, page_rv)
                return
            except ApiError as exc:
                if not (exc.is_expired and attempt < 2):
                    raise

    def count(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 100,
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> int:
        """How many objects match, counted page by page (never holding more than one page).

        Pages are small: a decoded page of 500 status-rich pods is about 9 MiB, the largest single
        allocation of a density job (it lands on top of every tracked object at verification).
        """
        found = 0

        def restart() -> None:
            nonlocal found
            found = 0

        def add(page: list[Obj], _rv: str) -> None:
            nonlocal found
            found += len(page)

        self._each_page(
            restart,
            add,
            api_version,
            kind,
            namespace,
            label_selector,
            field_selector,
            limit,
            limiter,
            stats,
        )
        return found

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> list[Obj]:
        """All matching objects (paged); ``namespace=None`` = all namespaces."""
        items, _ = self.list_with_rv(
            api_version,
            kind,
            namespace,
            label_selector,
            field_selector,
            limit,
            limiter=limiter,
            stats=stats,
        )
        return items

    def update(
        self,
        obj: Obj,
        namespace: str | None = None,
        *,
        subresource: str = "",
        dry_run: bool = False,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Obj:
        """PUT ``obj`` (optionally to a subresource such as ``status``)."""
        info = self.resource_for(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        path = info.path(self._ns(info, namespace or meta.get("namespace")), meta["name"])
        if subresource:
            path += f"/{subresource}"
        query: Query = [("dryRun", "All")] if dry_run else []
        result: Obj = self._call(
            "PUT", path, verb="update", query=query, body=obj, limiter=limiter, stats=stats
        )
        return result

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        body: Any,
        patch_type: PatchType | str,
        namespace: str | None = None,
        field_manager: str = "pytest-kubevirt-burner",
        force: bool = False,
        *,
        subresource: str = "",
        dry_run: bool = False,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Obj:
        """PATCH with a json, merge, strategic-merge or server-side-apply body.

        ``patch_type`` is a PatchType or its short name (``merge``) or content type.
        """
        patch_type = PatchType.parse(patch_type)
        if patch_type is PatchType.JSON and not isinstance(body, list):
            raise ValueError("a json patch body must be a list of operations")
        info = self.resource_for(api_version, kind)
        path = info.path(self._ns(info, namespace), name, subresource)
        query: Query = [("fieldManager", field_manager)]
        if force and patch_type is PatchType.APPLY:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        result: Obj = self._call(
            "PATCH",
            path,
            verb="patch",
            query=query,
            body=body,
            content_type=patch_type.value,
            limiter=limiter,
            stats=stats,
        )
        return result

    @staticmethod
    def _delete_options(propagation: str | None, grace_period: int | None) -> Obj:
        options: Obj = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation:
            options["propagationPolicy"] = propagation
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        return options

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        propagation: str | None = "Background",
        grace_period: int | None = None,
        *,
        missing_ok: bool = False,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Obj | None:
        """DELETE one object; returns the deleted/terminating object or Status (None if absent
        and ``missing_ok``)."""
        info = self.resource_for(api_version, kind)
        path = info.path(self._ns(info, namespace), name)
        try:
            result: Obj = self._call(
                "DELETE",
                path,
                verb="delete",
                body=self._delete_options(propagation, grace_period),
                limiter=limiter,
                stats=stats,
            )
        except ApiError as exc:
            if missing_ok and exc.is_not_found:
                return None
            raise
        return result

    def delete_collection(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        propagation: str | None = "Background",
        grace_period: int | None = None,
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Obj:
        """DELETE a collection (namespaced kinds: in ``namespace`` or the default namespace)."""
        info = self.resource_for(api_version, kind)
        query: Query = []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        result: Obj = self._call(
            "DELETE",
            info.path(self._ns(info, namespace)),
            verb="deletecollection",
            query=query,
            body=self._delete_options(propagation, grace_period),
            limiter=limiter,
            stats=stats,
        )
        return result
