#!/usr/bin/env bash
# Fuzzes every decoder for SECONDS each (default 60), seeded with the project's fixtures.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   bash fuzz/run.sh [SECONDS]
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "${BASH_SOURCE[0]}")"
fixtures=../tests/fixtures
declare -A seeds=(
    [decode_input]="$fixtures/cloudtrail $fixtures/describe $fixtures/terraform"
    [policy_yaml]="$fixtures/policy ../src/policy"
    [example]=""
)
for target in decode_input policy_yaml example; do
    mkdir -p "corpus/$target"
    echo "fuzz/run.sh: $target for ${seconds}s"
    # shellcheck disable=SC2086 # the seed list is split on purpose
    cargo +nightly fuzz run "$target" "corpus/$target" ${seeds[$target]} -- \
        -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 2>&1 | tail -12
done
