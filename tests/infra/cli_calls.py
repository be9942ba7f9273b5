"""The `aws SERVICE OPERATION --option value …` commands a page of docs/ shows, turned into the
API calls the AWS CLI would make (botocore's model says each option's member and shape), so that
a test can run them as written against the emulator: `--region` picks the client's region,
`file://` reads a file of the repository, list options take the words that follow, and a list
of structures takes each word in the CLI's shorthand (`Key=value,Key=value`)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session

from sgguard_world.files import REPO


@dataclass
class Call:
    service: str
    operation: str
    region: str | None
    params: dict = field(default_factory=dict)


def section_commands(page: Path, heading: str) -> list[str]:
    """The `aws …` lines of the ```sh blocks in the numbered step of `page` whose title starts
    with `heading` (its text up to the next step)."""
    text = page.read_text()
    start = text.index(f"**{heading}")
    following = re.search(r"\n\d+\. \*\*", text[start:])
    part = text[start:start + following.start()] if following else text[start:]
    commands, inside = [], False
    for line in part.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            inside = stripped == "```sh"
        elif inside and stripped.startswith("aws "):
            commands.append(stripped)
    return commands


def _squashed(name: str) -> str:
    return name.replace("-", "").lower()


def _value(shape, words: list[str]):
    if shape.type_name == "list":
        return [_value(shape.member, [word]) for word in words]
    (word,) = words
    if shape.type_name == "structure":
        pairs = dict(pair.split("=", 1) for pair in word.split(","))
        members = {_squashed(n): (n, s) for n, s in shape.members.items()}
        return {members[_squashed(k)][0]: _value(members[_squashed(k)][1], [v]) for k, v in pairs.items()}
    if word.startswith("file://"):
        return (REPO / word[len("file://"):]).read_text()
    if shape.type_name == "boolean":
        return word == "true"
    if shape.type_name in ("integer", "long"):
        return int(word)
    return word


def call_of(command: str) -> Call:
    """`command` as the API call it makes."""
    words = shlex.split(command)
    assert words[0] == "aws", command
    service, operation, options = words[1], words[2], words[3:]
    model = botocore.session.get_session().get_service_model(service)
    names = {_squashed(n): n for n in model.operation_names}
    op = model.operation_model(names[_squashed(operation)])
    members = {_squashed(n): (n, s) for n, s in op.input_shape.members.items()}
    call = Call(service, op.name, None)
    i = 0
    while i < len(options):
        option = options[i]
        assert option.startswith("--"), f"{command}: `{option}` is not an option"
        values = []
        i += 1
        while i < len(options) and not options[i].startswith("--"):
            values.append(options[i])
            i += 1
        if option == "--region":
            (call.region,) = values
            continue
        name, shape = members[_squashed(option[2:])]
        call.params[name] = _value(shape, values)
    return call
