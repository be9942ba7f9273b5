"""The AWS provider's published schema, extracted from the prebuilt CDK for Terraform bindings.

The bindings of hashicorp/aws (PyPI `cdktf-cdktf-provider-aws`) are generated from the
provider's schema at one provider version and ship it as a jsii assembly: every resource, data
source and the provider itself as a class whose config struct lists each argument (required
unless `optional`) and each nested block (a struct of its own). The wheel is read, never
installed or imported (nothing of jsii or node runs); the compact JSON written here is what
`sgguard_world.tfschema` checks `.tf` files against. tests/infra/run.sh runs it once per pinned
wheel of tests/infra/requirements-tfschema.txt, and again only when this file changes.

    python -m sgguard_world.tfschema_extract WHEEL OUT.json
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

# `Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/5.99.1/docs/resources/lambda_function aws_lambda_function}.`
REPRESENTS = re.compile(
    r"Represents a \{@link https://registry\.terraform\.io/providers/([\w-]+/[\w-]+)/([^/\s]+)/docs"
    r"(?:/(resources|data-sources)/\S+)? ([\w-]+)\}"
)
# `Docs at Terraform Registry: {@link https://...#function_name LambdaFunction#function_name}`
ANCHOR = re.compile(r"\{@link \S+#([\w-]+) ")
KINDS = {"resources": "resource", "data-sources": "data", None: "provider"}




def read_assembly(wheel: Path) -> dict:
    """The jsii assembly (`package/.jsii` inside `_jsii/*.jsii.tgz`) of a bindings wheel."""
    with zipfile.ZipFile(wheel) as whl:
        names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(names) != 1:
            raise ValueError(f"{wheel.name}: expected one jsii tarball, found {names}")
        with tarfile.open(fileobj=io.BytesIO(whl.read(names[0])), mode="r:gz") as tar:
            member = tar.extractfile("package/.jsii")
            if member is None:
                raise ValueError(f"{wheel.name}: no package/.jsii in {names[0]}")
            return json.load(member)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def tf_name(prop: dict) -> str:
    docs = prop.get("docs", {})
    m = ANCHOR.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
    return m.group(1) if m else snake(prop["name"])


def block_schema(types: dict, fqn: str, seen: tuple[str, ...] = ()) -> dict:
    """{"arguments": {name: {"required": bool}}, "blocks": {name: {"required": bool, "nested": schema}}}.

    An argument whose value is a list or set of objects (aws_security_group's `ingress`) keeps
    its object's schema as "nested" too: Terraform lets such an argument be written as blocks."""
    arguments: dict[str, dict] = {}
    blocks: dict[str, dict] = {}
    for prop in types[fqn].get("properties", []):
        name, required = tf_name(prop), not prop.get("optional", False)
        struct = struct_of(types, prop["type"])
        summary = prop.get("docs", {}).get("summary", "")
        if struct and struct not in seen and summary.endswith(" block."):
            blocks[name] = {"required": required, "nested": block_schema(types, struct, seen + (fqn,))}
        elif struct and struct not in seen and "collection" in json.dumps(prop["type"]):
            arguments[name] = {"required": required, "nested": block_schema(types, struct, seen + (fqn,))}
        else:
            arguments[name] = {"required": required}
    return {"arguments": arguments, "blocks": blocks}


def struct_of(types: dict, typ: dict) -> str | None:
    """The data struct a property holds (alone, in a list or set, or in a union with IResolvable)."""
    if "fqn" in typ:
        t = types.get(typ["fqn"])
        return typ["fqn"] if t and t.get("kind") == "interface" and t.get("datatype") else None
    if "union" in typ:
        found = [s for s in (struct_of(types, x) for x in typ["union"]["types"]) if s]
        return found[0] if found else None
    if "collection" in typ:
        return struct_of(types, typ["collection"]["elementtype"])
    return None


def extract(assembly: dict, package: str) -> dict:
    types = assembly["types"]
    schema: dict = {"package": package, "resource": {}, "data": {}, "provider": {}}
    for fqn, t in sorted(types.items()):
        m = REPRESENTS.search(t.get("docs", {}).get("summary", "")) if t.get("kind") == "class" else None
        if not m:
            continue
        source, version, section, type_name = m.groups()
        params = (t.get("initializer") or {}).get("parameters", [])
        config = [p for p in params if p["name"] == "config"]
        if not config:
            continue
        schema["source"], schema["version"] = source, version
        schema[KINDS[section]][type_name] = block_schema(types, config[0]["type"]["fqn"])
    if not schema["resource"]:
        raise ValueError(f"{package}: no resource found in the assembly")
    return schema


def extract_wheel(wheel: Path, out: Path) -> dict:
    """`cdktf_cdktf_provider_aws-19.65.1-py3-none-any.whl` -> OUT (written atomically)."""
    dist, version = wheel.name.split("-")[:2]
    schema = extract(read_assembly(wheel), f"{dist.replace('_', '-')}=={version}")
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(schema, sort_keys=True, separators=(",", ":")))
    tmp.replace(out)
    return schema


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema = extract_wheel(Path(argv[0]), Path(argv[1]))
    print(f"{argv[1]}: {schema['source']} {schema['version']} from {schema['package']}: "
          f"{len(schema['resource'])} resources, {len(schema['data'])} data sources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
