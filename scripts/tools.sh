#!/usr/bin/env bash
# Installs the Lambda build's tools, cargo-lambda and zig (scripts/tools-requirements.txt,
# pinned), into TOOLS: a small venv of their own, not the test venv. Installs only when the
# pins or the Python changed (a hash stamp in TOOLS), so every build can call it. Needs Python 3
# with venv and pip, and PyPI the first time.
#
#   bash scripts/tools.sh TOOLS
set -euo pipefail

tools=${1:?usage: tools.sh TOOLS}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requirements=$here/tools-requirements.txt
python=${PYTHON:-python3}

if [[ ! -x $tools/bin/python ]]; then
    echo "tools.sh: creating venv $tools" >&2
    "$python" -m venv "$tools"
fi
stamp_file=$tools/.sgguard-tools.sha256
want=$("$tools/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.version.encode() + open(sys.argv[1], "rb").read()).hexdigest())' "$requirements")
if [[ $want != "$(cat "$stamp_file" 2>/dev/null || true)" ]]; then
    echo "tools.sh: installing cargo-lambda and zig into $tools" >&2
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$tools/bin/python" -m pip install --quiet -r "$requirements"
    echo "$want" >"$stamp_file"
fi
