#!/usr/bin/env bash
# Builds a release into dist/: for x86_64 and arm64 (Linux), the Lambda zip and the command line
# binary, which is the zip's `bootstrap` (one binary: the Lambda when AWS_LAMBDA_RUNTIME_API is
# set), and dist/SHA256SUMS of them (`sha256sum -c SHA256SUMS` checks them):
#
#   dist/sgguard-<version>-<arch>-linux        the CLI (`sgguard --version` says <version>)
#   dist/sgguard-<version>-<arch>-lambda.zip   bootstrap + policy.yaml (the embedded baseline)
#
# Each architecture is built by scripts/lambda_zip.sh (so dist/sgguard-<arch>.zip, what the hub
# examples deploy, is written too). A release holds the embedded default baseline: POLICY is
# refused. <version> is Cargo.toml's.
#
#   bash scripts/release.sh TOOLS
set -euo pipefail

tools=${1:?usage: release.sh TOOLS}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
if [ -n "${POLICY:-}" ]; then
    echo "release.sh: a release holds the embedded default baseline; build a zip with your baseline with \`make lambda-zip POLICY=$POLICY\`" >&2
    exit 2
fi
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["package"]["version"])')

files=()
for arch in x86_64 arm64; do
    bash scripts/lambda_zip.sh "$tools" "$arch"
    cli="sgguard-$version-$arch-linux"
    lambda="sgguard-$version-$arch-lambda.zip"
    cp "dist/sgguard-$arch.zip" "dist/$lambda"
    python3 - "dist/$lambda" "dist/$cli" <<'PY'
import os, sys, zipfile
zip_path, cli = sys.argv[1:3]
with zipfile.ZipFile(zip_path) as z, open(cli, "wb") as out:
    out.write(z.read("bootstrap"))
os.chmod(cli, 0o755)
PY
    files+=("$cli" "$lambda")
done
(cd dist && sha256sum "${files[@]}" >SHA256SUMS)
echo "release.sh: dist/ holds sgguard $version:"
(cd dist && ls -l "${files[@]}" SHA256SUMS)
