#!/usr/bin/env bash
# Runs the infrastructure tests (hub/ Terraform, spoke-infra/ CloudFormation).
#
#   bash tests/infra/run.sh VENV_DIR [pytest args...]
#   bash tests/infra/run.sh VENV_DIR --install-only     (what `make venv` runs)
#
# Creates VENV_DIR with python3 -m venv if it is missing and installs
# tests/infra/requirements.txt (with scripts/tools-requirements.txt, which it includes) into
# it; checkov goes into its own venv VENV_DIR/checkov
# (requirements-checkov.txt: it pins boto3 and ships a `hcl2` module that clashes with
# python-hcl2). Installs run only when the requirement files (or the Python) changed:
# a hash stamp is kept in VENV_DIR. Then installs tests/world (the `sgguard_world` package: the
# emulator and the emulated Organization) editable, again only when its pyproject.toml changed
# or the venv's copy is not this checkout's. Then the AWS provider schemas of
# requirements-tfschema.txt (VENV_DIR/tfschema/), hclwrite.Format from npm (hclfmt/, into
# VENV_DIR/hclfmt/) for tests/infra/test_tfschema.py and asl-validator from npm (aslvalidate/,
# into VENV_DIR/aslvalidate/) for tests/infra/test_hub_sweep.py, each only when its pins changed. Needs
# Python >= 3.10 with venv/pip, Node.js with npm, and access to PyPI and npm; then runs
# `pytest -q tests/infra tests/hub` from the repository root.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 VENV_DIR [pytest args...]" >&2
    exit 2
fi
venv=$1
shift

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
case $venv in /*) ;; *) venv=$PWD/$venv ;; esac

stamp_of() {
    "$1" - "$here/requirements.txt" "$here/requirements-checkov.txt" "$repo/scripts/tools-requirements.txt" <<'EOF'
import hashlib, sys
h = hashlib.sha256(sys.version.encode())
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        h.update(f.read())
print(h.hexdigest())
EOF
}

if [[ ! -x $venv/bin/python ]]; then
    echo "run.sh: creating venv $venv" >&2
    "$python" -m venv "$venv"
fi
if [[ ! -x $venv/checkov/bin/python ]]; then
    echo "run.sh: creating venv $venv/checkov" >&2
    "$venv/bin/python" -m venv "$venv/checkov"
fi

stamp_file=$venv/.sgguard-infra-requirements.sha256
want=$(stamp_of "$venv/bin/python")
have=$(cat "$stamp_file" 2>/dev/null || true)
# A venv whose checkov venv was made again (or never filled) installs again, whatever the stamp.
if [[ $want != "$have" || ! -x $venv/checkov/bin/checkov ]]; then
    echo "run.sh: installing requirements into $venv" >&2
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    "$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
    "$venv/checkov/bin/python" -m pip install --quiet -r "$here/requirements-checkov.txt"
    echo "$want" >"$stamp_file"
fi

# The world package, editable: the tests, the demo and the benches import this checkout's code.
world=$repo/tests/world
world_stamp=$venv/.sgguard-world.sha256
want_world=$({ cat "$world/pyproject.toml"; echo "$world"; } | sha256sum | cut -d' ' -f1)
have_world=$(cat "$world_stamp" 2>/dev/null || true)
installed=$("$venv/bin/python" -c 'import pathlib, sgguard_world; print(pathlib.Path(sgguard_world.__file__).resolve().parents[1])' 2>/dev/null || true)
if [[ $want_world != "$have_world" || $installed != "$world" ]]; then
    echo "run.sh: installing $world (editable) into $venv" >&2
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-deps -e "$world"
    echo "$want_world" >"$world_stamp"
fi

# The AWS provider's schemas (requirements-tfschema.txt, pinned bindings wheels): each wheel is
# downloaded alone (they are one distribution at several versions), all at once, its schema
# extracted into VENV_DIR/tfschema/<dist>-<version>.json by sgguard_world.tfschema_extract, and
# the wheel deleted. Again only when the pins or the extractor changed.
provider_schema() {
    local pin=$1 hash=$2 download
    download=$(mktemp -d)
    printf '%s %s\n' "$pin" "$hash" >"$download/requirement.txt"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip download --quiet --no-deps \
        --require-hashes -r "$download/requirement.txt" -d "$download" &&
        "$venv/bin/python" -m sgguard_world.tfschema_extract "$download"/*.whl "$schemas/${pin/==/-}.json" >&2
    local status=$?
    rm -rf "$download"
    return $status
}
schemas=$venv/tfschema
want_schemas=$(cat "$here/requirements-tfschema.txt" "$world/sgguard_world/tfschema_extract.py" | sha256sum | cut -d' ' -f1)
if [[ $want_schemas != "$(cat "$schemas/.stamp" 2>/dev/null || true)" ]]; then
    rm -rf "$schemas"
    mkdir -p "$schemas"
    echo "run.sh: extracting the provider schemas of requirements-tfschema.txt into $schemas" >&2
    jobs=()
    while read -r pin hash; do
        [[ -z $pin || $pin == \#* ]] && continue
        provider_schema "$pin" "$hash" &
        jobs+=($!)
    done <"$here/requirements-tfschema.txt"
    for job in "${jobs[@]}"; do
        wait "$job"
    done
    echo "$want_schemas" >"$schemas/.stamp"
fi

# Node.js tools from npm, each folder's lockfile pinned, installed outside the checkout into
# VENV_DIR/<folder> (Node.js and npm come with the machine), each only when its pins changed:
# hclfmt/, hclwrite.Format (the layout `terraform fmt` writes) as WebAssembly, for
# test_tfschema.py; aslvalidate/, asl-validator (Amazon States Language), for test_hub_sweep.py.
npm_tool() {
    local name=$1 dir=$venv/$1 want
    want=$(cat "$here/$name/package.json" "$here/$name/package-lock.json" | sha256sum | cut -d' ' -f1)
    [[ $want == "$(cat "$dir/.stamp" 2>/dev/null || true)" ]] && return 0
    if ! command -v npm >/dev/null; then
        echo "run.sh: npm not found: the tests that need tests/infra/$name cannot run" >&2
        return 0
    fi
    echo "run.sh: installing tests/infra/$name (npm ci) into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$here/$name/package.json" "$here/$name/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
    echo "$want" >"$dir/.stamp"
}
npm_tool hclfmt
npm_tool aslvalidate

if [[ ${1:-} == --install-only ]]; then
    exit 0
fi

export SGGUARD_CHECKOV=$venv/checkov/bin/checkov
export PYTHONDONTWRITEBYTECODE=1
cd "$repo"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/infra tests/hub "$@"
