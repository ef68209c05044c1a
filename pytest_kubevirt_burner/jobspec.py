"""Job and object specifications from marker kwargs, validated before the cluster is touched."""

from __future__ import annotations

import difflib
import re
import shutil
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

from .cluster.ratelimit import DEFAULT_BURST, DEFAULT_QPS
from .cluster.verbs import PatchType
from .durations import parse_duration
from .errors import JobSpecError
from .jobfields import (
    HOOK_TIMEOUT,
    HOOK_WHENS,
    JOB_FIELDS,
    JOB_SPEC_FIELDS,
    ChurnSpec,
    HookSpec,
    JobSpec,
    JobType,
    ObjectSpec,
    WaitOptions,
    field_table,
    field_table_markdown,
)

__all__ = [  # re-exported: the job model lives in jobfields.py, the errors in errors.py
    "JOB_FIELDS",
    "JOB_SPEC_FIELDS",
    "ChurnSpec",
    "HookSpec",
    "JobSpec",
    "JobSpecError",
    "JobType",
    "ObjectSpec",
    "WaitOptions",
    "field_table",
    "field_table_markdown",
]


DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
EXECUTION_MODES = ("parallel", "sequential")
# kube-burner's kubeVirtOp values; VMI-level ops may target a VirtualMachineInstance kind
KUBEVIRT_OPS = (
    "start",
    "stop",
    "restart",
    "pause",
    "unpause",
    "migrate",
    "add-volume",
    "remove-volume",
)
VM_ONLY_OPS = ("start", "stop", "restart")
CHURN_MODES = ("namespaces", "objects")
CHURN_KEYS = ("cycles", "percent", "duration", "delay", "delete_delay", "mode")


OBJECT_FIELDS = {f.name for f in fields(ObjectSpec)} | {"object_template"}
SHORTHAND = {
    "template",
    "object_template",
    "replicas",
    "input_vars",
    "kind",
    "api_version",
    "label_selector",
    "patch_type",
    "run_once",
    "repeat_every_n_iterations",
    "wait",
    "wait_options",
    "kubevirt_op",
}


def dns1123(name: str) -> str:
    """``test_vm_density`` -> ``test-vm-density`` (lowercase, invalid runs become '-')."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return out[:63].rstrip("-") or "job"


def _suggest(word: str, valid: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(valid), n=1, cutoff=0.5)
    if not close:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", word).lower()
        close = [snake] if snake in valid else []
    return f"; did you mean '{close[0]}'?" if close else ""


class _Checker:
    """Type checks that name where the value came from."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, msg: str) -> JobSpecError:
        return JobSpecError(f"{self.where}: {msg}")

    def integer(self, key: str, value: Any, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"'{key}' must be an integer, got {value!r}")
        if value < minimum:
            raise self.fail(f"'{key}' must be >= {minimum}, got {value}")
        return value

    def number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"'{key}' must be a number, got {value!r}")
        if value < 0:
            raise self.fail(f"'{key}' must be >= 0, got {value}")
        return float(value)

    def boolean(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false, got {value!r}")
        return value

    def duration(self, key: str, value: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(f"'{key}': {exc}") from None

    def mapping(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(f"'{key}' must be a mapping with string keys, got {value!r}")
        return dict(value)

    def string_map(self, key: str, value: Any) -> dict[str, str]:
        m = self.mapping(key, value)
        return {k: str(v) for k, v in m.items()}

    def string(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(f"'{key}' must be a string, got {value!r}")
        return value


def _wait_options(chk: _Checker, raw: Any) -> WaitOptions:
    m = chk.mapping("wait_options", raw)
    valid = {"api_version", "kind", "label_selector", "custom_status_paths"}
    for key in m:
        if key not in valid:
            raise chk.fail(f"unknown key 'wait_options.{key}'{_suggest(key, valid)}")
    paths: list[tuple[str, str]] = []
    for entry in m.get("custom_status_paths") or []:
        if not isinstance(entry, dict) or set(entry) != {"key", "value"}:
            raise chk.fail("'wait_options.custom_status_paths' entries must be {key, value}")
        paths.append((str(entry["key"]), str(entry["value"])))
    return WaitOptions(
        api_version=m.get("api_version"),
        kind=m.get("kind"),
        label_selector=chk.string_map("wait_options.label_selector", m.get("label_selector", {})),
        custom_status_paths=tuple(paths),
    )


def build_object(
    chk: _Checker, raw: dict[str, Any], base_dir: Path, job_type: JobType, index: int
) -> ObjectSpec:
    """Validate one ``objects`` entry."""
    for key in raw:
        if key not in OBJECT_FIELDS:
            raise chk.fail(f"unknown key 'objects[{index}].{key}'{_suggest(key, OBJECT_FIELDS)}")
    if "template" in raw and "object_template" in raw:
        raise chk.fail(f"objects[{index}]: give 'template' or 'object_template', not both")
    tpl_raw = raw.get("template", raw.get("object_template"))
    template: Path | None = None
    if tpl_raw is not None:
        tpl = Path(chk.string(f"objects[{index}].template", tpl_raw))
        template = tpl if tpl.is_absolute() else base_dir / tpl
        if not template.is_file():
            raise chk.fail(f"template file not found: {tpl_raw} (looked in {template.parent})")
    elif job_type in ("create", "patch"):
        raise chk.fail(f"objects[{index}] needs a 'template'")
    kind = raw.get("kind")
    selector = chk.string_map(f"objects[{index}].label_selector", raw.get("label_selector", {}))
    if job_type in ("delete", "patch", "read", "kubevirt"):
        if job_type != "kubevirt" and not kind:
            raise chk.fail(f"objects[{index}] needs a 'kind'")
        if not selector:
            raise chk.fail(f"objects[{index}] needs a non-empty 'label_selector'")
    patch_type: PatchType | None = None
    op = raw.get("kubevirt_op")
    api_version = raw.get("api_version")
    if job_type == "kubevirt":
        kind, api_version = _kubevirt_target(chk, raw, index, kind, api_version)
    elif op is not None:
        raise chk.fail(f"objects[{index}].kubevirt_op is only valid in a kubevirt job")
    if job_type == "patch":
        try:
            patch_type = PatchType.parse(raw.get("patch_type"))
        except ValueError:
            raise chk.fail(
                f"objects[{index}].patch_type must be one of "
                f"{', '.join(p.short for p in PatchType)}, got {raw.get('patch_type')!r}"
            ) from None
    return ObjectSpec(
        template=template,
        replicas=chk.integer(f"objects[{index}].replicas", raw.get("replicas", 1)),
        input_vars=chk.mapping(f"objects[{index}].input_vars", raw.get("input_vars", {})),
        run_once=chk.boolean(f"objects[{index}].run_once", raw.get("run_once", False)),
        repeat_every_n_iterations=chk.integer(
            f"objects[{index}].repeat_every_n_iterations",
            raw.get("repeat_every_n_iterations", 1),
            minimum=1,
        ),
        wait=chk.boolean(f"objects[{index}].wait", raw.get("wait", True)),
        wait_options=_wait_options(chk, raw.get("wait_options", {})),
        churn=chk.boolean(f"objects[{index}].churn", raw.get("churn", True)),
        kind=chk.string(f"objects[{index}].kind", kind) if kind is not None else None,
        api_version=api_version,
        label_selector=selector,
        patch_type=patch_type,
        kubevirt_op=op,
    )


def _kubevirt_target(
    chk: _Checker, raw: dict[str, Any], index: int, kind: Any, api_version: Any
) -> tuple[str, str]:
    """Validate a kubevirt object's op and inputVars; (kind, apiVersion) with defaults."""
    op = raw.get("kubevirt_op")
    where = f"objects[{index}].kubevirt_op"
    if op is None:
        raise chk.fail(f"objects[{index}] needs a 'kubevirt_op' ({', '.join(KUBEVIRT_OPS)})")
    if op not in KUBEVIRT_OPS:
        raise chk.fail(
            f"'{where}' must be one of {', '.join(KUBEVIRT_OPS)}, got {op!r}"
            f"{_suggest(str(op), set(KUBEVIRT_OPS))}"
        )
    kind = kind or "VirtualMachine"
    if kind not in ("VirtualMachine", "VirtualMachineInstance"):
        raise chk.fail(f"objects[{index}].kind must be VirtualMachine or VirtualMachineInstance")
    if kind == "VirtualMachineInstance" and op in VM_ONLY_OPS:
        raise chk.fail(f"objects[{index}]: {op} acts on a VirtualMachine, not a {kind}")
    inputs = chk.mapping(f"objects[{index}].input_vars", raw.get("input_vars", {}))
    if op in ("add-volume", "remove-volume") and not inputs.get("volumeName"):
        raise chk.fail(f"objects[{index}]: {op} needs input_vars.volumeName")
    if inputs.get("diskType", "disk") not in ("disk", "lun"):
        raise chk.fail(f"objects[{index}]: input_vars.diskType must be disk or lun")
    if inputs.get("cache", "none") not in ("none", "writethrough", "writeback"):
        raise chk.fail(
            f"objects[{index}]: input_vars.cache must be none, writethrough or writeback"
        )
    return str(kind), str(api_version or "kubevirt.io/v1")


def build_churn(chk: _Checker, raw: Any) -> ChurnSpec:
    """Validate ``churn={...}`` (kube-burner's churnConfig in snake_case)."""
    m = chk.mapping("churn", raw)
    for key in m:
        if key not in CHURN_KEYS:
            raise chk.fail(f"unknown key 'churn.{key}'{_suggest(key, set(CHURN_KEYS))}")
    mode = m.get("mode", "namespaces")
    if mode not in CHURN_MODES:
        raise chk.fail(f"'churn.mode' must be namespaces or objects, got {mode!r}")
    churn = ChurnSpec(
        cycles=chk.integer("churn.cycles", m.get("cycles", 0)),
        percent=chk.integer("churn.percent", m.get("percent", 10), minimum=1),
        duration=chk.duration("churn.duration", m.get("duration", 0)),
        delay=chk.duration("churn.delay", m.get("delay", 0)),
        delete_delay=chk.duration("churn.delete_delay", m.get("delete_delay", 0)),
        mode=str(mode),
    )
    if churn.percent > 100:
        raise chk.fail(f"'churn.percent' must be <= 100, got {churn.percent}")
    if churn.cycles == 0 and churn.duration == 0:
        raise chk.fail("'churn' needs 'cycles' or 'duration' (both 0 would never churn)")
    return churn


HOOK_KEYS = ("cmd", "when", "background", "timeout")


def _check_repeat(chk: _Checker, objects: tuple[ObjectSpec, ...], churn: ChurnSpec | None) -> None:
    """kube-burner's rules for repeatEveryNIterations: one value > 1 per job, and not on
    churnable objects with object churn."""
    values = sorted({o.repeat_every_n_iterations for o in objects} - {1})
    if len(values) > 1:
        raise chk.fail(
            f"inconsistent 'repeat_every_n_iterations' values {values[0]} and {values[1]}: all "
            "objects must use 1 or the same value"
        )
    churnable = any(o.repeat_every_n_iterations > 1 and o.churn for o in objects)
    if churnable and churn is not None and churn.mode == "objects":
        raise chk.fail(
            "'repeat_every_n_iterations' > 1 cannot be used with churn mode 'objects' on "
            "churnable objects: set churn=False on those objects or use mode 'namespaces'"
        )


def hook_script(base_dir: Path, program: str) -> Path | None:
    """The file a hook's relative script path names: next to the config (or test file), else in
    the ``scripts/`` directory beside that directory (where kube-burner-ocp keeps the scripts
    it embeds); None when neither exists."""
    for candidate in (base_dir / program, base_dir.parent / "scripts" / program):
        if candidate.is_file():
            return candidate
    return None


def build_hooks(chk: _Checker, raw: Any, base_dir: Path) -> tuple[HookSpec, ...]:
    """Validate ``hooks=[...]`` (kube-burner's hooks); each command must exist."""
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        raise chk.fail("'hooks' must be a list of mappings")
    out = []
    for i, entry in enumerate(raw):
        m = chk.mapping(f"hooks[{i}]", entry)
        for key in m:
            if key not in HOOK_KEYS:
                raise chk.fail(f"unknown key 'hooks[{i}].{key}'{_suggest(key, set(HOOK_KEYS))}")
        when = m.get("when")
        if when not in HOOK_WHENS:
            raise chk.fail(
                f"'hooks[{i}].when' must be one of {', '.join(HOOK_WHENS)}, got {when!r}"
                f"{_suggest(str(when), set(HOOK_WHENS))}"
            )
        cmd = m.get("cmd")
        if (
            not isinstance(cmd, (list, tuple))
            or not cmd
            or not all(isinstance(c, (str, int, float)) for c in cmd)
        ):
            raise chk.fail(f"'hooks[{i}].cmd' must be a non-empty list of strings, got {cmd!r}")
        program = str(cmd[0])
        found = hook_script(base_dir, program) if "/" in program else shutil.which(program)
        if not found:
            where = f" ({base_dir / program})" if "/" in program else " on PATH"
            raise chk.fail(f"'hooks[{i}].cmd': command {program!r} not found{where}")
        timeout = chk.duration(f"hooks[{i}].timeout", m.get("timeout", HOOK_TIMEOUT))
        if timeout <= 0:
            raise chk.fail(f"'hooks[{i}].timeout' must be > 0")
        background = chk.boolean(f"hooks[{i}].background", m.get("background", False))
        out.append(HookSpec(tuple(str(c) for c in cmd), str(when), background, timeout))
    return tuple(out)


def build_job(
    where: str, job_type: JobType, kwargs: dict[str, Any], base_dir: Path, default_name: str
) -> JobSpec:
    """Validate marker kwargs (already merged, closest wins) into a JobSpec."""
    chk = _Checker(where)
    valid = JOB_FIELDS | SHORTHAND | {"objects"}
    for key in kwargs:
        if key not in valid:
            raise chk.fail(f"unknown keyword '{key}'{_suggest(key, valid)}")
    short = {k: kwargs[k] for k in SHORTHAND if k in kwargs}
    raw_objects = kwargs.get("objects")
    if raw_objects is not None and short:
        raise chk.fail(
            f"give either 'objects=[...]' or the one-object shorthand, not both "
            f"(found {', '.join(sorted(short))})"
        )
    if raw_objects is None and not short:  # objects=[] is a no-op job, as in kube-burner
        raise chk.fail("the job has no objects: give 'template=' or 'objects=[...]'")
    if raw_objects is None:
        raw_objects = [short]
    if not isinstance(raw_objects, list | tuple) or not all(
        isinstance(o, dict) for o in raw_objects
    ):
        raise chk.fail("'objects' must be a list of mappings")
    objects = tuple(
        build_object(chk, dict(o), base_dir, job_type, i) for i, o in enumerate(raw_objects)
    )
    name = dns1123(chk.string("name", kwargs.get("name", default_name)))
    if "name" in kwargs and kwargs["name"] != name:
        raise chk.fail(
            f"'name' must be a DNS-1123 label (lowercase, digits, '-'), got {kwargs['name']!r}"
        )
    namespace = chk.string("namespace", kwargs.get("namespace", name))
    if not DNS1123_LABEL.match(namespace) or len(namespace) > 57:
        raise chk.fail(
            f"'namespace' must be a DNS-1123 label of at most 57 characters, got {namespace!r}"
        )
    qps = chk.number("qps", kwargs.get("qps", 0))
    burst = chk.integer("burst", kwargs.get("burst", 0))
    mode = kwargs.get(
        "execution_mode", "sequential" if job_type in ("kubevirt", "delete", "read") else "parallel"
    )
    if mode not in EXECUTION_MODES:
        raise chk.fail(f"'execution_mode' must be parallel or sequential, got {mode!r}")
    strategy = kwargs.get("deletion_strategy", "default")
    if strategy not in ("default", "gvr"):
        raise chk.fail(f"'deletion_strategy' must be default or gvr, got {strategy!r}")
    wait_for = kwargs.get("wait_for", ())
    if isinstance(wait_for, str) or not all(isinstance(k, str) for k in wait_for):
        raise chk.fail(f"'wait_for' must be a list of kinds, got {wait_for!r}")
    churn = None if kwargs.get("churn") is None else build_churn(chk, kwargs["churn"])
    if churn is not None and job_type != "create":
        raise chk.fail("'churn' is only valid on a create (density) job")
    if (
        churn is not None
        and churn.mode == "namespaces"
        and not kwargs.get("namespaced_iterations", True)
    ):
        raise chk.fail(
            "churn mode 'namespaces' needs namespaced_iterations=True; use mode 'objects'"
        )
    _check_repeat(chk, objects, churn)
    values = {
        f.name: _checked(chk, f, kwargs) for f in JOB_SPEC_FIELDS if f.metadata["kind"] in _CHECKS
    }
    if job_type == "delete":
        values["iterations"] = 1
    when_finished = kwargs.get("wait_when_finished", job_type != "delete")
    return JobSpec(
        name=name,
        job_type=job_type,
        objects=objects,
        qps=qps if qps > 0 else DEFAULT_QPS,
        burst=burst if burst > 0 else DEFAULT_BURST,
        namespace=namespace,
        wait_when_finished=chk.boolean("wait_when_finished", when_finished),
        wait_for=tuple(wait_for),
        execution_mode=mode,
        deletion_strategy=strategy,
        hooks=build_hooks(chk, kwargs.get("hooks"), base_dir),
        churn=churn,
        **values,
    )


_CHECKS = ("int", "bool", "duration", "string_map")


def _checked(chk: _Checker, f: Field[Any], kwargs: dict[str, Any]) -> Any:
    """The validated value of JobSpec field ``f`` from ``kwargs`` (its default when absent)."""
    kind, key = f.metadata["kind"], f.name
    raw = kwargs.get(key, {} if f.default is MISSING else f.default)
    if kind == "int":
        return chk.integer(key, raw, minimum=f.metadata["minimum"])
    if kind == "bool":
        return chk.boolean(key, raw)
    if kind == "duration":
        return chk.duration(key, raw)
    return chk.string_map(key, raw)
