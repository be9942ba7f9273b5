#!/usr/bin/env bash
# Builds the Lambda artifact: `bootstrap` (release, cargo-lambda + zig) and `policy.yaml`
# (the embedded default baseline, or $POLICY) in dist/sgguard-<arch>.zip, and checks that the
# binary is for <arch> and needs no glibc newer than 2.34 (Amazon Linux 2023, provided.al2023).
# Needs the Rust toolchain and Python 3; cargo-lambda and zig are installed on demand into TOOLS
# (scripts/tools.sh), the Rust target of <arch> with rustup.
#
#   bash scripts/lambda_zip.sh TOOLS [x86_64|arm64]
set -euo pipefail

tools=${1:?usage: lambda_zip.sh TOOLS [x86_64|arm64]}
arch=${2:-x86_64}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/tools.sh "$tools"
# cargo-lambda finds zig as `python -m ziglang`: the tools venv's python first on PATH.
export PATH="$tools/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-target}
out="$target_dir/lambda-$arch"

# A policy the Lambda could not load would fail its init after deployment: validate it (its
# syntax, and every rule's examples) before building anything.
if [ -n "${POLICY:-}" ]; then
    cargo run --quiet --locked --release --bin sgguard -- policy validate "$POLICY"
fi

case $arch in
    x86_64) flag=--x86-64 target=x86_64-unknown-linux-gnu ;;
    arm64)  flag=--arm64 target=aarch64-unknown-linux-gnu ;;
    *) echo "lambda_zip.sh: architecture \`$arch\` is not x86_64 or arm64" >&2; exit 2 ;;
esac
# The Rust standard library of the target, added here: cargo-lambda's own install of a missing
# target can leave its first build failing.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

cargo lambda build --release --locked "$flag" --bin sgguard --lambda-dir "$out"
bootstrap="$out/sgguard/bootstrap"

python3 scripts/elf_check.py "$bootstrap" --machine "$arch" --max-glibc 2.34

mkdir -p dist
zip="dist/sgguard-$arch.zip"
policy=${POLICY:-}
python3 - "$bootstrap" "$zip" "$policy" "$target_dir" <<'PY'
import os, sys, zipfile
bootstrap, zip_path, policy, target_dir = sys.argv[1:5]
# The embedded default baseline is this file, byte for byte (`sgguard policy show`).
text = open(policy or "src/policy/default.yaml").read()
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, open(bootstrap, "rb").read())
    # Lambda runs the function as an unprivileged user: the policy must be world-readable.
    policy_info = zipfile.ZipInfo("policy.yaml")
    policy_info.external_attr = 0o644 << 16
    policy_info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(policy_info, text)
print(f"lambda_zip.sh: {zip_path}: {os.path.getsize(zip_path) / 1e6:.2f} MB "
      f"(bootstrap {os.path.getsize(bootstrap) / 1e6:.2f} MB)")
PY
