#!/usr/bin/env bash
# Builds the Lambda artifact: `bootstrap` (release, cargo-lambda + zig) and `policy.yaml`
# (the embedded default baseline, or $POLICY) in dist/sgguard-<arch>.zip, and checks that the
# binary needs no glibc newer than 2.34 (Amazon Linux 2023, provided.al2023).
#
#   bash scripts/lambda_zip.sh VENV [x86_64|arm64]
set -euo pipefail

venv=${1:?usage: lambda_zip.sh VENV [x86_64|arm64]}
arch=${2:-x86_64}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="$venv/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-target}
out="$target_dir/lambda-$arch"

# A policy the Lambda could not load would fail its init after deployment: validate it (its
# syntax, and every rule's examples) before building anything.
if [ -n "${POLICY:-}" ]; then
    cargo run --quiet --locked --release --bin sgguard -- policy validate "$POLICY"
fi

case $arch in
    x86_64) flag=--x86-64 ;;
    arm64)  flag=--arm64 ;;
    *) echo "lambda_zip.sh: architecture \`$arch\` is not x86_64 or arm64" >&2; exit 2 ;;
esac

cargo lambda build --release --locked "$flag" --bin sgguard --lambda-dir "$out"
bootstrap="$out/sgguard/bootstrap"

# The newest glibc symbol version the binary asks for.
newest=$(objdump -T "$bootstrap" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "lambda_zip.sh: bootstrap needs ${newest:-no glibc}"
python3 - "$newest" <<'PY'
import sys
newest = sys.argv[1].removeprefix("GLIBC_")
if newest and tuple(map(int, newest.split("."))) > (2, 34):
    sys.exit(f"lambda_zip.sh: bootstrap needs glibc {newest}, newer than Amazon Linux 2023's 2.34")
PY

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
