"""Lexer for Go text/template: splits source into text and actions, tokenizes actions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RenderFailure

__all__ = ["Action", "Text", "Token", "split_source", "tokenize"]

_SPACE = " \t\r\n"
KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Action:
    body: str  # between delimiters and trim markers
    line: int  # line of the opening '{{'
    newlines: int  # newlines inside the raw action, kept for line mapping
    trim_left: bool
    trim_right: bool
    comment: bool


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string number bool nil field dot var ident ( ) | := = , keyword
    value: object
    spaced: bool  # preceded by whitespace (separates arguments from field chains)
    text: str


def _snippet(src: str, start: int) -> str:
    first = src[start:].split("\n", 1)[0].rstrip()
    return first if len(first) <= 40 else first[:37] + "..."


def _scan_quoted(src: str, i: int, line: int) -> int:
    """Return the index after the quoted literal starting at src[i]."""
    quote = src[i]
    j = i + 1
    while j < len(src):
        c = src[j]
        if c == "\\" and quote != "`":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c == "\n" and quote != "`":
            break
        j += 1
    what = "raw string" if quote == "`" else "quoted string"
    raise RenderFailure(f"unterminated {what} {_snippet(src, i)!r}", line)


def split_source(src: str) -> list[Text | Action]:
    """Split a Go template into text segments and actions ({{ ... }})."""
    out: list[Text | Action] = []
    pos, line = 0, 1
    while True:
        start = src.find("{{", pos)
        if start < 0:
            if pos < len(src):
                out.append(Text(src[pos:], line))
            return out
        if start > pos:
            out.append(Text(src[pos:start], line))
            line += src.count("\n", pos, start)
        i = start + 2
        trim_left = src.startswith("-", i) and i + 1 < len(src) and src[i + 1] in _SPACE
        if trim_left:
            i += 1
        j = i
        while j < len(src) and src[j] in _SPACE:
            j += 1
        if src.startswith("/*", j):
            close = src.find("*/", j + 2)
            end = -1 if close < 0 else close + 2
            k = end
            trim_right = False
            if end >= 0:
                while k < len(src) and src[k] in _SPACE:
                    k += 1
                if src.startswith("-", k) and k > end:
                    trim_right, k = True, k + 1
                if not src.startswith("}}", k):
                    raise RenderFailure(
                        f"comment not followed by '}}}}': {_snippet(src, start)!r}", line
                    )
            if end < 0:
                raise RenderFailure(f"unclosed comment {_snippet(src, start)!r}", line)
            stop, body = k + 2, src[j:end]
            comment = True
        else:
            k = i
            while True:
                if k >= len(src):
                    raise RenderFailure(f"unterminated action {_snippet(src, start)!r}", line)
                c = src[k]
                if c in "\"'`":
                    k = _scan_quoted(src, k, line + src.count("\n", start, k))
                    continue
                if src.startswith("}}", k):
                    break
                k += 1
            body = src[i:k]
            trim_right = len(body) >= 2 and body[-1] == "-" and body[-2] in _SPACE
            if trim_right:
                body = body[:-1]
            stop, comment = k + 2, False
        raw_newlines = src.count("\n", start, stop)
        out.append(Action(body, line, raw_newlines, trim_left, trim_right, comment))
        line += raw_newlines
        pos = stop


_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)"
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "0": "\0"}  # fmt: skip


def _unquote(lit: str) -> str:
    """Decode a Go interpreted string or rune literal body."""
    out: list[str] = []
    i = 0
    while i < len(lit):
        c = lit[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = lit[i + 1] if i + 1 < len(lit) else ""
        if e in ("x", "u", "U"):
            n = {"x": 2, "u": 4, "U": 8}[e]
            out.append(chr(int(lit[i + 2 : i + 2 + n], 16)))
            i += 2 + n
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        else:
            raise ValueError(f"unknown escape sequence '\\{e}'")
    return "".join(out)


def _number(text: str) -> int | float:
    t = text.replace("_", "")
    if re.fullmatch(r"[+-]?0[xXbBoO].*", t):
        return int(t, 0)
    if re.fullmatch(r"[+-]?0\d+", t):
        return int(t, 8)
    if re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    return float(t)


def tokenize(body: str, line: int) -> list[Token]:
    """Tokenize the inside of one action."""
    toks: list[Token] = []
    i, n = 0, len(body)
    while i < n:
        spaced = i == 0 or body[i - 1] in _SPACE
        c = body[i]
        if c in _SPACE:
            i += 1
            continue
        start = i
        if c in "\"`'":
            i = _scan_quoted(body, i, line)
            raw = body[start:i]
            try:
                text = raw[1:-1] if c == "`" else _unquote(raw[1:-1])
            except (ValueError, IndexError) as exc:
                raise RenderFailure(f"bad literal {raw!r}: {exc}", line) from None
            if c == "'":
                if len(text) != 1:
                    raise RenderFailure(f"bad character literal {raw}", line)
                toks.append(Token("number", ord(text), spaced, raw))
            else:
                toks.append(Token("string", text, spaced, raw))
            continue
        if c == ":" and body.startswith(":=", i):
            toks.append(Token(":=", None, spaced, ":="))
            i += 2
            continue
        if c in "()|=,":
            toks.append(Token(c, None, spaced, c))
            i += 1
            continue
        if c == "$":
            m = _IDENT.match(body, i + 1)
            name = m.group(0) if m else ""
            i += 1 + len(name)
            toks.append(Token("var", name, spaced, "$" + name))
            continue
        if c == "." and not (i + 1 < n and body[i + 1].isdigit()):
            m = _IDENT.match(body, i + 1)
            if m:
                i = m.end()
                toks.append(Token("field", m.group(0), spaced, "." + m.group(0)))
            else:
                i += 1
                toks.append(Token("dot", None, spaced, "."))
            continue
        m = _NUMBER.match(body, i)
        if m and (c.isdigit() or c in "+-."):
            i = m.end()
            toks.append(Token("number", _number(m.group(0)), spaced, m.group(0)))
            continue
        m = _IDENT.match(body, i)
        if m:
            word = m.group(0)
            i = m.end()
            if word in ("true", "false"):
                toks.append(Token("bool", word == "true", spaced, word))
            elif word == "nil":
                toks.append(Token("nil", None, spaced, word))
            elif word in KEYWORDS:
                toks.append(Token("keyword", word, spaced, word))
            else:
                toks.append(Token("ident", word, spaced, word))
            continue
        raise RenderFailure(f"unexpected {c!r} in action '{{{{{body.strip()}}}}}'", line)
    return toks
