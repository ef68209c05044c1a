"""Label and field selector grammar, validation and matching."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.selectors import (
    FieldSelector,
    LabelSelector,
    Requirement,
    label_key_errors,
    label_selector_from_object,
    label_value_errors,
    parse_field_selector,
    parse_label_selector,
    supported_fields,
)


def match(sel: str, labels: dict[str, str]) -> bool:
    return parse_label_selector(sel).matches(labels)


@pytest.mark.parametrize(
    ("sel", "labels", "expected"),
    [
        ("", {}, True),
        ("a=b", {"a": "b"}, True),
        ("a=b", {"a": "c"}, False),
        ("a=b", {}, False),
        ("a==b", {"a": "b"}, True),
        ("a!=b", {"a": "c"}, True),
        ("a!=b", {}, True),
        ("a!=b", {"a": "b"}, False),
        ("a in (x,y)", {"a": "y"}, True),
        ("a in (x,y)", {"a": "z"}, False),
        ("a in (x,y)", {}, False),
        ("a notin (x,y)", {"a": "z"}, True),
        ("a notin (x,y)", {}, True),
        ("a notin (x,y)", {"a": "x"}, False),
        ("a", {"a": ""}, True),
        ("a", {"b": "x"}, False),
        ("!a", {"b": "x"}, True),
        ("!a", {"a": "x"}, False),
        ("a=b,c=d", {"a": "b", "c": "d"}, True),
        ("a=b,c=d", {"a": "b"}, False),
        ("a=", {"a": ""}, True),
        ("a=", {"a": "x"}, False),
        ("a=,b", {"a": "", "b": "1"}, True),
        ("a>5", {"a": "6"}, True),
        ("a>5", {"a": "5"}, False),
        ("a<5", {"a": "-1"}, True),
        ("a>5", {"a": "x"}, False),
        ("a>5", {}, False),
        ("  a = b ,  c  ", {"a": "b", "c": ""}, True),
        ("a in (x, ,y)", {"a": ""}, True),
        ("example.com/app=web", {"example.com/app": "web"}, True),
        ("a in (in,notin)", {"a": "notin"}, True),
        ("a=in", {"a": "in"}, True),
        ("a.b_c-d=A.b_c-9", {"a.b_c-d": "A.b_c-9"}, True),
    ],
)
def test_label_matching(sel: str, labels: dict[str, str], expected: bool) -> None:
    assert match(sel, labels) is expected


@pytest.mark.parametrize(
    ("sel", "fragment"),
    [
        ("a=b=c", "found '=', expected: ',' or 'end of string'"),
        ("in=b", "found 'in', expected: !, identifier, or 'end of string'"),
        ("a in x", "found 'x', expected: '('"),
        ("a in (x", "expected: ',' or ')'"),
        ("a in ()", "for 'in', 'notin' operators, values set can't be empty"),
        ("a b", "found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b,", "found 'end of string', expected: identifier"),
        (",a", "found ',', expected: !, identifier"),
        ("!", "expected: identifier after '!'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a=(b)", "found '(', expected: identifier"),
        ("a=!b", "found '!', expected: identifier"),
        ("a>b", "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("a=-x", 'values[0][a]: Invalid value: "-x": a valid label must be an empty string'),
        ("a=" + "x" * 64, "must be no more than 63 characters"),
        ("-a=b", 'key: Invalid value: "-a": name part must consist of alphanumeric'),
        ("/a=b", "prefix part must be non-empty"),
        ("a/=b", "name part must be non-empty"),
        ("a/b/c=d", "a qualified name must consist of alphanumeric characters"),
        ("Bad_Prefix/a=b", "prefix part a lowercase RFC 1123 subdomain must consist"),
        ("a" * 64 + "=b", "name part must be no more than 63 characters"),
        ("a in (x,-y)", 'values[1][a]: Invalid value: "-y"'),
        ("a == = b", "found '=', expected: identifier"),
    ],
)
def test_label_parse_errors(sel: str, fragment: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_label_selector(sel)
    e = info.value
    assert (e.code, e.reason) == (400, "BadRequest")
    assert e.message.startswith("unable to parse requirement: ")
    assert fragment in e.message


def test_label_selector_is_cached_and_callable_on_objects() -> None:
    assert parse_label_selector("a=b") is parse_label_selector("a=b")
    sel = parse_label_selector("a=b")
    assert sel({"metadata": {"labels": {"a": "b"}}})
    assert not sel({"metadata": {}})
    assert not sel({})
    assert parse_label_selector("")({})
    assert parse_label_selector("").empty() and not sel.empty()


def test_label_selector_str_round_trip() -> None:
    s = "a=b,c!=d,e in (f,g),h notin (i),j,!k,l>1,m<2,n==o"
    assert str(parse_label_selector(s)) == s


def test_label_selector_from_object() -> None:
    sel = label_selector_from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "x", "operator": "DoesNotExist"},
                {"key": "y", "operator": "Exists"},
                {"key": "z", "operator": "NotIn", "values": ["bad"]},
            ],
        }
    )
    assert sel.matches({"app": "web", "tier": "a", "y": "1"})
    assert not sel.matches({"app": "web", "tier": "a", "y": "1", "x": "1"})
    assert not sel.matches({"app": "web", "tier": "c", "y": "1"})
    assert not sel.matches({"app": "web", "tier": "a", "y": "1", "z": "bad"})
    assert label_selector_from_object({}).matches({"anything": "x"})
    assert not label_selector_from_object(None).matches({})
    with pytest.raises(ApiError):
        label_selector_from_object({"matchExpressions": [{"key": "a", "operator": "Near"}]})


def test_key_and_value_validation_helpers() -> None:
    assert label_key_errors("app") == ()
    assert label_key_errors("kubernetes.io/metadata.name") == ()
    assert label_key_errors("UPPER/x") != ()
    assert label_value_errors("") == ()
    assert label_value_errors("x" * 63) == ()
    assert label_value_errors("x" * 64) == ("must be no more than 63 characters",)


# ------------------------------------------------------------------ field selectors

POD: dict[str, Any] = {
    "metadata": {"name": "p1", "namespace": "ns1"},
    "spec": {
        "nodeName": "n1",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "hostNetwork": False,
    },
    "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]},
}


@pytest.mark.parametrize(
    ("sel", "expected"),
    [
        ("", True),
        ("metadata.name=p1", True),
        ("metadata.name==p1", True),
        ("metadata.name!=p1", False),
        ("metadata.namespace=ns1,metadata.name=p1", True),
        ("metadata.namespace=ns1,metadata.name=p2", False),
        ("spec.nodeName=n1", True),
        ("spec.nodeName!=", True),
        ("spec.restartPolicy=Always", True),
        ("spec.schedulerName=default-scheduler", True),
        ("spec.serviceAccountName=default", True),
        ("spec.hostNetwork=false", True),
        ("status.phase=Running", True),
        ("status.phase!=Running", False),
        ("status.podIP=10.0.0.1", True),
        ("status.podIPs=10.0.0.1", True),
        ("status.nominatedNodeName=", True),
        ("metadata.name=p1,", True),
    ],
)
def test_pod_field_selectors(sel: str, expected: bool) -> None:
    assert parse_field_selector(sel, "pods")(POD) is expected


def test_field_selector_unsupported_fields() -> None:
    with pytest.raises(ApiError) as info:
        parse_field_selector("spec.nodeName=x", "configmaps")
    assert info.value.code == 400 and info.value.reason == "BadRequest"
    assert info.value.message == (
        '"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    with pytest.raises(ApiError) as info:
        parse_field_selector("spec.foo=x", "pods")
    assert info.value.message == "field label not supported: spec.foo"
    with pytest.raises(ApiError) as info:
        parse_field_selector("metadata.name", "pods")
    assert (
        info.value.message == "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
    )
    with pytest.raises(ApiError) as info:
        parse_field_selector("metadata.name=a\\qb", "pods")
    assert info.value.code == 400


def test_field_selector_escapes_and_exact() -> None:
    sel = parse_field_selector("metadata.name=a\\,b", "configmaps")
    assert sel({"metadata": {"name": "a,b"}})
    assert sel.exact("metadata.name") == "a,b"
    assert sel.exact("metadata.namespace") is None
    assert parse_field_selector("metadata.name!=x", "").exact("metadata.name") is None
    assert isinstance(parse_field_selector("", "pods"), FieldSelector)
    assert parse_field_selector("", "pods").empty()


def test_field_selector_other_kinds() -> None:
    ev = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "X"}
    assert parse_field_selector("involvedObject.kind=Pod,reason=X", "events")(ev)
    ns = {"metadata": {"name": "n"}, "status": {"phase": "Active"}}
    assert parse_field_selector("status.phase=Active", "namespaces")(ns)
    node = {"metadata": {"name": "n"}, "spec": {"unschedulable": True}}
    assert parse_field_selector("spec.unschedulable=true", "nodes")(node)
    assert "status.successful" in supported_fields("jobs", "batch")
    assert parse_field_selector("metadata.namespace=", "nodes")({"metadata": {"name": "n"}})


# ------------------------------------------------------------------ property test

KEYS = st.sampled_from(["app", "tier", "example.com/team", "a.b-c_d", "x"])
VALUES = st.sampled_from(["", "web", "db", "v1", "A-1.b_2", "7", "12"])
OPS = st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!", ">", "<"])


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    key, op = draw(KEYS), draw(OPS)
    if op in ("exists", "!"):
        return Requirement(key, op)
    if op in (">", "<"):
        return Requirement(key, op, (str(draw(st.integers(-20, 20))),))
    if op in ("in", "notin"):
        return Requirement(key, op, tuple(draw(st.lists(VALUES, min_size=1, max_size=3))))
    return Requirement(key, op, (draw(VALUES),))


def _direct(req: Requirement, labels: dict[str, str]) -> bool:
    has = req.key in labels
    value = labels.get(req.key)
    if req.op in ("=", "==", "in"):
        return has and value in req.values
    if req.op in ("!=", "notin"):
        return not has or value not in req.values
    if req.op == "exists":
        return has
    if req.op == "!":
        return not has
    if not has or value is None or not value.lstrip("-").isdigit():
        return False
    return int(value) > int(req.values[0]) if req.op == ">" else int(value) < int(req.values[0])


def _format(req: Requirement, spaced: bool) -> str:
    if req.op == "exists":
        return req.key
    if req.op == "!":
        return "!" + req.key
    sp = " " if spaced else ""
    if req.op in ("in", "notin"):
        inner = f",{sp}".join(req.values) if set(req.values) != {""} else ","
        return f"{req.key} {req.op} ({inner})"
    return f"{req.key}{sp}{req.op}{sp}{req.values[0]}"


@settings(max_examples=300, deadline=None)
@given(
    reqs=st.lists(requirements(), max_size=4),
    labels=st.dictionaries(KEYS, VALUES, max_size=4),
    spaced=st.booleans(),
)
def test_formatted_selectors_parse_to_equivalent_matchers(
    reqs: list[Requirement], labels: dict[str, str], spaced: bool
) -> None:
    text = (", " if spaced else ",").join(_format(r, spaced) for r in reqs)
    parsed = parse_label_selector(text)
    assert isinstance(parsed, LabelSelector)
    assert len(parsed.requirements) == len(reqs)
    assert parsed.matches(labels) == all(_direct(r, labels) for r in reqs)
    assert parse_label_selector(str(parsed)).matches(labels) == parsed.matches(labels)
