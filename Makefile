# sgguard — build, test and demo entry points. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Builds are cached outside the checkout so that fresh clones (CI) reuse them.
export CARGO_TARGET_DIR ?= /var/tmp/sgguard-target
export CARGO_TERM_COLOR ?= never
# The design's shared CloudTrail fixtures, when checked out beside the project: rust-test then
# runs the (ignored) fixture test that compares the repository's copy with them (empty: it says
# the comparison was skipped).
export SGGUARD_SHARED ?= $(wildcard $(abspath ../shared))
# Python tools (moto, cfn-lint, checkov, python-hcl2, pytest) live in a venv outside the checkout.
VENV ?= /var/tmp/sgguard-venv

.PHONY: test lint venv rust-test infra-test build release-build bench demo lambda-zip release fuzz
export VENV

## test: everything CI checks — formatting, clippy, Rust tests (the hub flow and the sweep against
## moto), infrastructure tests, and the demo (its own checks must hold)
test: lint venv rust-test infra-test demo

## venv: the Python tools (moto server, cfn-lint, checkov, python-hcl2, pytest), installed once,
## tests/world (the sgguard_world package: the emulator and the emulated Organization), editable,
## the AWS provider schemas (5.x, 6.x) and hclwrite.Format (npm) of the offline Terraform check
venv:
	bash tests/infra/run.sh $(VENV) --install-only

lint:
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets --all-features -- -D warnings

## rust-test: every Rust test: the offline ones (tests/offline/, all a plain `cargo test` runs)
## and those that need the venv (tests/emulator/, built with the `emulator` feature); the
## fixtures against the shared copy when SGGUARD_SHARED names one; then the IAM tally check:
## every AWS action sgguard called through the emulators is granted by the IAM policies, and
## every action they grant it was called (python -m sgguard_world.iam_check)
TALLY_DIR := $(CARGO_TARGET_DIR)/sgguard-iam-tally
rust-test: venv
	rm -rf $(TALLY_DIR)
	SGGUARD_TALLY_DIR=$(TALLY_DIR) cargo test --locked --all-targets --all-features
	if [ -n "$$SGGUARD_SHARED" ]; then \
	  cargo test --locked --all-features --test offline -- --ignored --exact fixtures::the_fixtures_equal_the_shared_copy; \
	else \
	  echo "rust-test: SKIPPED the fixtures against the shared copy: no ../shared (SGGUARD_SHARED is empty)"; \
	fi
	$(VENV)/bin/python -m sgguard_world.iam_check $(TALLY_DIR)

## infra-test: cfn-lint, checkov, HCL checks (provider schema, fmt layout, README tables), the StackSet
## deployed into moto, the emulator
infra-test: venv
	bash tests/infra/run.sh $(VENV)

build:
	cargo build --locked

## release-build: this machine's release binary, $(CARGO_TARGET_DIR)/release/sgguard (the benches run it)
release-build:
	cargo build --locked --release

## bench: criterion benchmarks, the check bench table, the cold hub-event bench, the sweep bench,
## the distributed sweep's worker bench (30 accounts x 2 regions, then one full batch: 10 x 30)
## (release build)
bench: release-build venv
	cargo bench --locked --bench evaluate
	python3 scripts/bench_check.py
	$(VENV)/bin/python scripts/bench_hub.py
	$(VENV)/bin/python scripts/bench_sweep.py
	$(VENV)/bin/python scripts/bench_worker.py
	$(VENV)/bin/python scripts/bench_worker.py --accounts 10 --regions 30

## fuzz: libFuzzer on every decoder (nightly + cargo-fuzz), FUZZ_SECONDS each
FUZZ_SECONDS ?= 60
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

## lambda-zip: dist/sgguard-$(ARCH).zip (bootstrap + policy.yaml), its machine and glibc <= 2.34
## checked (scripts/elf_check.py); needs the Rust toolchain and Python 3: cargo-lambda and zig are
## installed on demand into TOOLS (scripts/tools.sh, pinned in scripts/tools-requirements.txt)
ARCH ?= x86_64
TOOLS ?= /var/tmp/sgguard-tools
lambda-zip:
	bash scripts/lambda_zip.sh $(TOOLS) $(ARCH)

## release: dist/sgguard-<version>-<arch>-linux (the CLI) and dist/sgguard-<version>-<arch>-lambda.zip
## for x86_64 and arm64, and dist/SHA256SUMS (scripts/release.sh; the embedded default baseline)
release:
	bash scripts/release.sh $(TOOLS)

## demo: sgguard end to end on this machine: an Organization in moto, the spoke StackSet, the
## hub Lambda under cargo-lambda, changes made as people in the members, the sweep; checked
## (demo/README.md)
demo: venv
	$(VENV)/bin/python demo/demo.py
