#!/usr/bin/env bash
# Runs the infrastructure tests (hub/ Terraform, spoke-infra/ CloudFormation).
#
#   bash tests/infra/run.sh VENV_DIR [pytest args...]
#   bash tests/infra/run.sh VENV_DIR --install-only     (what `make venv` runs)
#
# Creates VENV_DIR with python3 -m venv if it is missing and installs
# tests/infra/requirements.txt into it; checkov goes into its own venv VENV_DIR/checkov
# (requirements-checkov.txt: it pins boto3 and ships a `hcl2` module that clashes with
# python-hcl2). Installs run only when the requirement files (or the Python) changed:
# a hash stamp is kept in VENV_DIR. Then installs tests/world (the `sgguard_world` package: the
# emulator and the emulated Organization) editable, again only when its pyproject.toml changed
# or the venv's copy is not this checkout's. Needs only Python >= 3.10 with venv/pip and access
# to PyPI; then runs `pytest -q tests/infra tests/hub` from the repository root.
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
    "$1" - "$here/requirements.txt" "$here/requirements-checkov.txt" <<'EOF'
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
if [[ $want != "$have" ]]; then
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

if [[ ${1:-} == --install-only ]]; then
    exit 0
fi

export SGGUARD_CHECKOV=$venv/checkov/bin/checkov
export PYTHONDONTWRITEBYTECODE=1
cd "$repo"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/infra tests/hub "$@"
