"""The value of an HCL object, list or string expression as python-hcl2 prints it (`{Sid = "X",
Action = ["a", "b"], Resource = "${aws_s3_bucket.b.arn}/k", Condition = {ArnLike = {"k" =
local.x}}}`), with each reference it holds (`local.x`, `aws_s3_bucket.b.arn`) given a value by
the caller, and each function it calls (`replace(...)`) given by the caller too: how a test
reads a policy statement or a rendered document the module writes. Only literals, references,
string interpolations of references and calls of the given functions; anything else (an
operator, an unknown reference or function) is an error, never a guess."""

from __future__ import annotations

import json
import re

_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\])+")


class _Reader:
    def __init__(self, text: str, refs: dict, functions: dict):
        self.text, self.refs, self.functions, self.pos = text, refs, functions, 0

    def error(self, what: str) -> ValueError:
        return ValueError(f"{what} at {self.pos} of {self.text!r}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \n\t,":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def reference(self, name: str):
        if name not in self.refs:
            raise self.error(f"no value given for the reference {name}")
        return self.refs[name]

    def string(self) -> str:
        self.expect('"')
        out = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated string")
            c = self.text[self.pos]
            if c == "\\":
                out.append(self.text[self.pos + 1])
                self.pos += 2
            elif c == '"':
                self.pos += 1
                return "".join(out)
            elif self.text.startswith("${", self.pos):
                start = self.pos + 2
                end = self.text.index("}", start)
                name = self.text[start:end]
                if not _REFERENCE.fullmatch(name):
                    raise self.error(f"only references are interpolated here, not {name!r}")
                out.append(str(self.reference(name)))
                self.pos = end + 1
            else:
                out.append(c)
                self.pos += 1

    def value(self):
        c = self.peek()
        if c == "{":
            self.pos += 1
            obj = {}
            while self.peek() != "}":
                key = self.string() if self.peek() == '"' else self.bare()
                self.expect("=")
                obj[key] = self.value()
            self.pos += 1
            return obj
        if c == "[":
            self.pos += 1
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.pos += 1
            return items
        if c == '"':
            return self.string()
        word = self.bare()
        if self.peek() == "(":
            return self.call(word)
        literals = {"true": True, "false": False, "null": None}
        if word in literals:
            return literals[word]
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", word):
            return json.loads(word)
        if not _REFERENCE.fullmatch(word):
            raise self.error(f"not a literal or a reference: {word!r}")
        return self.reference(word)

    def call(self, name: str):
        if name not in self.functions:
            raise self.error(f"no implementation given for the function {name}")
        self.expect("(")
        args = []
        while self.peek() != ")":
            args.append(self.value())
        self.pos += 1
        return self.functions[name](*args)

    def bare(self) -> str:
        self.skip()
        m = re.compile(r"[A-Za-z0-9_.\[\]:-]+").match(self.text, self.pos)
        if not m:
            raise self.error("expected a name")
        self.pos = m.end()
        return m.group(0)


def hcl_value(expression: str, refs: dict, functions: dict | None = None):
    """The value of `expression` (optionally wrapped in `${...}`), references taken from `refs`,
    functions from `functions` (name -> Python callable)."""
    text = expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    reader = _Reader(text, refs, functions or {})
    out = reader.value()
    if reader.peek():
        raise reader.error("trailing text")
    return out


def jsonencode_argument(expression: str) -> str:
    """The argument of `${jsonencode(...)}`, the form the module's inline policies take."""
    m = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", expression.strip(), re.S)
    if not m:
        raise ValueError(f"not a jsonencode(...) expression: {expression[:80]!r}")
    return m.group(1)


def object_with(expression: str, marker: str) -> str:
    """The text of the innermost `{...}` object literal of `expression` that holds `marker`
    (e.g. `Sid = "X"`): one statement of a policy whose whole expression is beyond hcl_value
    (a `for` expression, a conditional)."""
    at = expression.index(marker)
    depth, start = 0, at
    while start > 0:
        start -= 1
        if expression[start] == "}":
            depth += 1
        elif expression[start] == "{":
            if depth == 0:
                break
            depth -= 1
    depth, end = 0, start
    for end in range(start, len(expression)):
        if expression[end] == "{":
            depth += 1
        elif expression[end] == "}":
            depth -= 1
            if depth == 0:
                break
    return expression[start:end + 1]
