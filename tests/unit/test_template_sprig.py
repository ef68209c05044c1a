"""Template functions: the sprig v3.3 map kube-burner exposes, plus kube-burner's own.

Expected values are those of sprig's own tests and docs (github.com/Masterminds/sprig, v3.3.0)
and of Go's text/template; gonum's combinatorics for kube-burner's Binomial/IndexToCombination.
"""

from __future__ import annotations

import base64
import itertools
import math
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.templates import TemplateError, TemplateRenderer

# sprig v3.3.0 functions.go genericMap (TxtFuncMap), which kube-burner's funcMap starts from
SPRIG = """
hello ago date date_in_zone date_modify dateInZone dateModify duration durationRound htmlDate
htmlDateInZone must_date_modify mustDateModify mustToDate now toDate unixEpoch abbrev abbrevboth
trunc trim upper lower title untitle substr repeat trimall trimAll trimSuffix trimPrefix nospace
initials randAlphaNum randAlpha randAscii randNumeric swapcase shuffle snakecase camelcase
kebabcase wrap wrapWith contains hasPrefix hasSuffix quote squote cat indent nindent replace
plural sha1sum sha256sum sha512sum adler32sum toString atoi int64 int float64 seq toDecimal split
splitList splitn toStrings until untilStep add1 add sub div mod mul randInt add1f addf subf divf
mulf biggest max min maxf minf ceil floor round join sortAlpha default empty coalesce all any
compact mustCompact fromJson toJson toPrettyJson toRawJson mustFromJson mustToJson
mustToPrettyJson mustToRawJson ternary deepCopy mustDeepCopy typeOf typeIs typeIsLike kindOf
kindIs deepEqual env expandenv getHostByName base dir clean ext isAbs osBase osClean osDir osExt
osIsAbs b64enc b64dec b32enc b32dec tuple list dict get set unset hasKey pluck keys pick omit
merge mergeOverwrite mustMerge mustMergeOverwrite values append push mustAppend mustPush prepend
mustPrepend first mustFirst rest mustRest last mustLast initial mustInitial reverse mustReverse
uniq mustUniq without mustWithout has mustHas slice mustSlice concat dig chunk mustChunk bcrypt
htpasswd genPrivateKey derivePassword buildCustomCert genCA genCAWithKey genSelfSignedCert
genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES decryptAES randBytes uuidv4
semver semverCompare fail regexMatch mustRegexMatch regexFindAll mustRegexFindAll regexFind
mustRegexFind regexReplaceAll mustRegexReplaceAll regexReplaceAllLiteral
mustRegexReplaceAllLiteral regexSplit mustRegexSplit regexQuoteMeta urlParse urlJoin
""".split()  # noqa: SIM905 (the list as sprig's source orders it)
GO_BUILTINS = "and or not eq ne lt le gt ge len index slice print printf println html js urlquery"
KUBE_BURNER = ["Binomial", "IndexToCombination", "GetSubnet24", "GetIPAddress", "ReadFile"]


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> TemplateRenderer:
    return TemplateRenderer(tmp_path_factory.mktemp("t"))


def go(r: TemplateRenderer, text: str, data: dict[str, Any] | None = None) -> str:
    return r.render_string(text, data or {}, dialect="go")


def test_every_function_kube_burner_templates_have_exists(renderer: TemplateRenderer) -> None:
    names = renderer.function_names | {"and", "or", "not"}
    missing = [n for n in [*SPRIG, *GO_BUILTINS.split(), *KUBE_BURNER] if n not in names]
    assert missing == []


CASES = [
    # strings
    ('{{abbrevboth 5 10 "1234 5678 9123"}}', "...5678..."),
    ('{{initials "First Try"}}', "FT"),
    ('{{swapcase "Hello World"}}', "hELLO wORLD"),
    ('{{wrap 5 "Hello World"}}', "Hello\nWorld"),
    ('{{wrapWith 5 "\\t" "Hello World"}}', "Hello\tWorld"),
    ('{{ camelcase "_complex__case_" }}', "_Complex_Case_"),
    ('{{ camelcase "http_server" }}', "HttpServer"),
    ('{{ trimall "$" "$5.00$" }}', "5.00"),
    ('{{ toDecimal "0777" }}', "511"),
    ("{{ hello }}", "Hello!"),
    # float math on decimals
    ('{{ 1.2 | mulf "2.4" 10 "4"}}', "115.2"),
    ("{{ addf 1.5 2 2 }}", "5.5"),
    ("{{ subf 1.5 2 2 }}", "-2.5"),
    ("{{ divf 10 4 }}", "2.5"),
    # lists
    ('{{ range ( tuple 1 2 3 4 5 6 7 8 | chunk 3 ) }}{{. | join "-"}}|{{end}}', "1-2-3|4-5-6|7-8|"),
    ("{{ tuple | mustChunk 3 | len }}", "0"),
    ('{{ all "" 0 nil 2 }}', "false"),
    ("{{ all 1 }}", "true"),
    ('{{ any "" 0 nil 2 }}', "true"),
    ("{{ any }}", "false"),
    ("{{ list 1 2 3 | mustFirst }}", "1"),
    ("{{ list | mustLast }}", "<no value>"),
    ('{{ regexSplit "/" "foo/bar/baz" -1 | mustInitial }}', "[foo bar]"),
    ("{{ list 1 2 3 4 | mustReverse }}", "[4 3 2 1]"),
    ('{{ list 1 0 "" "hello" | mustCompact }}', "[1 hello]"),
    ('{{ list "foo" 1 1 1 1 "foo" "foo" | mustUniq }}', "[foo 1]"),
    ("{{ mustWithout (list 1 2 3 4) 1 }}", "[2 3 4]"),
    ("{{ list 1 2 3 | mustHas 4 }}", "false"),
    ("{{ mustSlice (list 1 2 3) 1 }}", "[2 3]"),
    ('{{ $t := tuple 1 2 3 4 }}{{ mustPrepend $t 0 | join "-" }}', "0-1-2-3-4"),
    (
        '{{ $t := regexSplit "/" "foo/bar/baz" -1 }}{{ mustPush $t "qux" | join "-" }}',
        "foo-bar-baz-qux",
    ),
    # dicts
    (
        '{{ $d := dict "a" 1 "b" (dict "c" 2 "k" true) }}'
        '{{ mergeOverwrite $d (dict "b" (dict "c" 3 "k" false)) | toJson }}',
        '{"a":1,"b":{"c":3,"k":false}}',
    ),
    ('{{ $d := dict "a" 1 }}{{ mustMerge $d (dict "a" 2 "b" 3) | toJson }}', '{"a":1,"b":3}'),
    ('{{ dict "a" (list 1 2) | mustDeepCopy | toJson }}', '{"a":[1,2]}'),
    # JSON
    ('{{ dict "a" "<b>" | mustToJson }}', '{"a":"\\u003cb\\u003e"}'),
    ('{{ dict "a" "<b>" | mustToRawJson }}', '{"a":"<b>"}'),
    ("{{ list 1 | mustToPrettyJson }}", "[\n  1\n]"),
    ('{{ (mustFromJson "{\\"a\\": 1}").a }}', "1"),
    ('{{ fromJson "not json" }}', "<no value>"),
    # reflection
    (
        '{{ kindOf (dict) }} {{ kindOf (list) }} {{ kindOf 1.5 }} {{ kindOf "s" }}',
        "map slice float64 string",
    ),
    ('{{ kindIs "int" 1 }} {{ kindIs "map" (list) }}', "true false"),
    (
        '{{ typeIs "string" "s" }} {{ typeIsLike "string" "s" }} {{ typeIs "int" "s" }}',
        "true true false",
    ),
    # paths
    ('{{ base "foo/bar/baz.txt" }} {{ base "/" }} {{ base "" }}', "baz.txt / ."),
    ('{{ dir "foo/bar/baz" }} {{ dir "baz" }} {{ dir "/a" }}', "foo/bar . /"),
    ('{{ clean "foo/../../bar//baz/." }} {{ clean "/../a" }} {{ clean "" }}', "../bar/baz /a ."),
    ('{{ ext "foo.bar.yaml" }}|{{ ext "a/b" }}', ".yaml|"),
    ('{{ isAbs "/a" }} {{ osIsAbs "a" }} {{ osBase "a/b" }}', "true false b"),
    # URLs
    ('{{ index ( urlParse "proto://auth@host:80/path?query#fragment" ) "host" }}', "host:80"),
    ('{{ index ( urlParse "proto://auth@host:80/path?query#fragment" ) "userinfo" }}', "auth"),
    (
        '{{ urlJoin (dict "fragment" "fragment" "host" "host:80" "path" "/path" "query" "query"'
        ' "scheme" "proto") }}',
        "proto://host:80/path?query#fragment",
    ),
    # dates
    ('{{toDate "2006-01-02" "2017-12-31" | date "02/01/2006"}}', "31/12/2017"),
    (
        '{{ date_in_zone "15:04" (mustToDate "2006-01-02T15:04:05Z07:00" "2024-02-29T10:11:12Z")'
        ' "UTC" }}',
        "10:11",
    ),
    (
        '{{ toDate "2006-01-02" "2020-01-01" | date_modify "24h" | date "2006-01-02" }}',
        "2020-01-02",
    ),
    ('{{ toDate "2006-01-02" "2020-01-01" | dateModify "bad" | date "2006-01-02" }}', "2020-01-01"),
    # regexes
    ('{{ mustRegexMatch "^[a-z]+$" "abc" }}', "true"),
    ('{{ mustRegexFindAll "[2,4,6,8]" "123456789" -1 }}', "[2 4 6 8]"),
    ('{{ mustRegexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', "-W-xxW-"),
    # semantic versions
    ('{{ semverCompare "1.2.3" "1.2.3" }}', "true"),
    ('{{ semverCompare "^1.2.0" "1.2.3" }}', "true"),
    ('{{ semverCompare "^1.2.0" "2.2.3" }}', "false"),
    ('{{ semverCompare "~1.2.3" "1.2.9" }} {{ semverCompare "~1.2.3" "1.3.0" }}', "true false"),
    ('{{ semverCompare "^0.2.3" "0.2.9" }} {{ semverCompare "^0.2.3" "0.3.0" }}', "true false"),
    (
        '{{ semverCompare "1.2.x" "1.2.7" }} '
        '{{ semverCompare ">= 1.2, < 3.0.0 || >= 4.2.3" "4.2.3" }}',
        "true true",
    ),
    (
        '{{ semverCompare "1.1 - 2" "2.0.5" }} {{ semverCompare ">=1.0.0" "1.2.0-beta" }}',
        "true false",
    ),
    (
        '{{ semverCompare ">=1.0.0-0" "1.2.0-beta" }} {{ semverCompare "!=1.2.3" "1.2.4" }}',
        "true true",
    ),
    ('{{ $s := semver "1.2.3-beta.1+c0ff33" }}{{ $s.Prerelease }} {{ $s.Major }}', "beta.1 1"),
    ('{{ semver "1.2.3" | (semver "1.3.3").Compare }}', "1"),
    ('{{ semver "1.4.3" | (semver "1.2.3").Compare }}', "-1"),
    ('{{ semver "v1.2" }}', "1.2.0"),
    # crypto (deterministic ones)
    (
        '{{"abc" | sha512sum}}',
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ),
    ('{{derivePassword 1 "long" "password" "user" "example.com"}}', "ZedaFaxcZaso9*"),
    ('{{derivePassword 1 "maximum" "password" "user" "example.com"}}', "pf4zS1LjCg&LjhsZ7T2~"),
    ('{{derivePassword 1 "pin" "password" "user" "example.com"}}', "6685"),
    ("{{ randBytes 12 | len }}", "16"),
    # kube-burner's own
    ("{{ Binomial 5 2 }}", "10"),
    (
        "{{ GetSubnet24 0 }} {{ GetSubnet24 257 }} {{ GetSubnet24 65536 }}",
        "1.0.0.0/24 1.1.1.0/24 2.0.0.0/24",
    ),
    ('{{ GetIPAddress "10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4" 1 2 }}', "10.0.0.3 10.0.0.4"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_function_output_matches_go(renderer: TemplateRenderer, text: str, expected: str) -> None:
    assert go(renderer, text) == expected


def test_index_to_combination_is_gonums_lexicographic_order(renderer: TemplateRenderer) -> None:
    for n, k in ((5, 2), (6, 3), (4, 4), (3, 0)):
        combos = list(itertools.combinations(range(n), k))
        assert len(combos) == math.comb(n, k)
        for i, combo in enumerate(combos):
            out = go(renderer, f"{{{{ IndexToCombination nil {i} {n} {k} }}}}")
            assert out == "[" + " ".join(map(str, combo)) + "]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{{ eq "1" 1 }}', "error calling eq: incompatible types for comparison"),
        ("{{ eq 1 1.0 }}", "error calling eq: incompatible types for comparison"),
        ('{{ ne "a" true }}', "error calling ne: incompatible types for comparison"),
        ("{{ lt 1 2.5 }}", "error calling lt: incompatible types for comparison"),
        ("{{ lt true false }}", "error calling lt: invalid type for comparison"),
        ("{{ gt (list) 1 }}", "error calling gt: invalid type for comparison"),
        ("{{ eq (list) (list) }}", "error calling eq: non-comparable type"),
        ("{{ Binomial 2 5 }}", "combin: n < k"),
        ("{{ IndexToCombination nil 10 5 2 }}", "out of range"),
        ('{{ GetIPAddress "10.0.0.1" 1 2 }}', "index out of range"),
        ('{{ mustRegexMatch "(" "x" }}', "mustRegexMatch: error parsing regexp"),
        ('{{ mustFromJson "{" }}', "mustFromJson"),
        ('{{ semver "one" }}', "Invalid Semantic Version"),
        ('{{ mustDateModify "bad" now }}', "mustDateModify"),
    ],
)
def test_errors_are_go_errors(renderer: TemplateRenderer, text: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        go(renderer, text)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{{ eq "1" "1" }} {{ eq 1 2 1 }} {{ eq .missing nil }} {{ ne 1 2 }}',
            "true true true true",
        ),
        ('{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}', "true true true false"),
        ('{{ eq .n 3 }} {{ eq .f 1.5 }} {{ eq .s "x" }} {{ eq .b true }}', "true true true true"),
    ],
)
def test_same_kind_comparisons(renderer: TemplateRenderer, text: str, expected: str) -> None:
    data = {"missing": None, "n": 3, "f": 1.5, "s": "x", "b": True}
    assert go(renderer, text, data) == expected


def test_aes_round_trip_and_go_ciphertext_layout(renderer: TemplateRenderer) -> None:
    secret = go(renderer, '{{ encryptAES "secretkey" "plaintext" }}')
    raw = base64.b64decode(secret)
    assert len(raw) == 32  # a 16-byte IV, then one padded block
    assert go(renderer, f'{{{{ decryptAES "secretkey" "{secret}" }}}}') == "plaintext"
    assert go(renderer, '{{ encryptAES "k" "" }}') == ""


def test_bcrypt_and_htpasswd(renderer: TemplateRenderer) -> None:
    import bcrypt

    hashed = go(renderer, '{{ bcrypt "pw" }}')
    assert hashed.startswith("$2") and bcrypt.checkpw(b"pw", hashed.encode())
    line = go(renderer, '{{ htpasswd "user" "pw" }}')
    assert line.startswith("user:$2")
    assert go(renderer, '{{ htpasswd "a:b" "pw" }}') == "invalid username: a:b"


def test_keys_and_certificates(renderer: TemplateRenderer) -> None:
    from cryptography import x509

    assert go(renderer, '{{ genPrivateKey "ecdsa" }}').startswith("-----BEGIN EC PRIVATE KEY")
    assert go(renderer, '{{ genPrivateKey "ed25519" }}').startswith("-----BEGIN PRIVATE KEY")
    assert go(renderer, '{{ genPrivateKey "nope" }}') == "Unknown type nope"
    text = go(
        renderer,
        '{{ $ca := genCA "my-ca" 365 }}'
        '{{ $c := genSignedCert "svc" (list "10.0.0.1") (list "svc.local") 30 $ca }}'
        "{{ $ca.Cert }}!{{ $c.Cert }}!{{ $c.Key }}",
    )
    ca_pem, cert_pem, key_pem = text.split("!")
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.issuer == ca.subject and "svc" in cert.subject.rfc4514_string()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["svc.local"]
    assert key_pem.startswith("-----BEGIN RSA PRIVATE KEY")
    b64 = base64.b64encode
    built = go(
        renderer,
        f'{{{{ (buildCustomCert "{b64(cert_pem.encode()).decode()}" '
        f'"{b64(key_pem.encode()).decode()}").Cert }}}}',
    )
    assert built == cert_pem


def test_read_file_in_kube_burner_mode(tmp_path: Path) -> None:
    """kube-burner's ReadFile: relative to the config, absolute paths as given."""
    (tmp_path / "cfg" / "templates").mkdir(parents=True)
    (tmp_path / "cfg" / "key.pub").write_text("ssh-ed25519 AAAA")
    (tmp_path / "elsewhere.pub").write_text("ssh-rsa BBBB")
    tpl = tmp_path / "cfg" / "templates" / "s.yml"
    tpl.write_text("a: {{ ReadFile .p | b64enc }}\n")
    r = TemplateRenderer(tmp_path / "cfg", config_dir=tmp_path / "cfg")
    assert r.render_file(tpl, {"p": "key.pub"}) == [{"a": "c3NoLWVkMjU1MTkgQUFBQQ=="}]
    absolute = str(tmp_path / "elsewhere.pub")
    assert r.render_file(tpl, {"p": absolute}) == [{"a": "c3NoLXJzYSBCQkJC"}]
    with pytest.raises(TemplateError, match="escapes the config directory"):
        r.render_file(tpl, {"p": "../elsewhere.pub"})
    confined = TemplateRenderer(tmp_path / "cfg")
    with pytest.raises(TemplateError, match="escapes the template directory"):
        confined.render_file(tpl, {"p": absolute})


def test_function_templates_and_blocks(tmp_path: Path) -> None:
    (tmp_path / "funcs.tpl").write_text(
        '{{- define "env_func" -}}\n'
        "{{- range $i := until $.n }}\n"
        '{{- printf "- name: E%d\\n  value: %s" (add $i 1) $.v | nindent $.indent }}\n'
        "{{- end }}\n"
        "{{- end }}\n"
    )
    (tmp_path / "pod.yml").write_text(
        "kind: Pod\nenv:\n"
        '  {{- template "env_func" (dict "n" 2 "v" .val "indent" 2) }}\n'
        '{{ block "extra" . }}extra: {{ .val }}{{ end }}\n'
    )
    r = TemplateRenderer(tmp_path, function_templates=[Path("funcs.tpl")])
    docs = r.render_file("pod.yml", {"val": "x"})
    assert docs == [
        {
            "kind": "Pod",
            "env": [{"name": "E1", "value": "x"}, {"name": "E2", "value": "x"}],
            "extra": "x",
        }
    ]
    plain = TemplateRenderer(tmp_path)
    with pytest.raises(TemplateError, match=r'pod\.yml:3: template "env_func" not defined'):
        plain.check("pod.yml")


def test_missing_key_zero(tmp_path: Path) -> None:
    (tmp_path / "t.yml").write_text("a: '{{ .nope }}'\nb: {{ .nope | default 3 }}\n")
    zero = TemplateRenderer(tmp_path, missing_key_zero=True)
    assert zero.render_file("t.yml", {}) == [{"a": "<no value>", "b": 3}]
    with pytest.raises(TemplateError, match="nope"):
        TemplateRenderer(tmp_path).render_file("t.yml", {})
    (tmp_path / "u.yml").write_text("a: {{ .nope.deeper }}\n")
    with pytest.raises(TemplateError, match="deeper"):
        zero.render_file("u.yml", {})
