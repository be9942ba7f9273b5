"""scripts/elf_check.py, the check `make lambda-zip` runs on `bootstrap`: the machine and the
newest glibc version an ELF binary needs, on tiny ELF images built here (both byte orders) and
on a real binary of this machine, compared with objdump where it is installed."""

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "elf_check.py"


def elf_image(machine: int, versions: list[str], order: str = "<") -> bytes:
    """A 64-bit ELF with a string table and a `.gnu.version_r` needing `versions` of libc.so.6."""
    strings = b"\0libc.so.6\0"
    offsets = []
    for version in versions:
        offsets.append(len(strings))
        strings += version.encode() + b"\0"
    dynstr_at = 64
    verneed_at = dynstr_at + len(strings)
    verneed = struct.pack(order + "HHIII", 1, len(versions), 1, 16, 0)
    for i, offset in enumerate(offsets):
        last = i == len(versions) - 1
        verneed += struct.pack(order + "IHHII", 0, 0, 2 + i, offset, 0 if last else 16)
    shoff = verneed_at + len(verneed)
    section = order + "IIQQQQIIQQ"
    sections = struct.pack(section, *[0] * 10)
    sections += struct.pack(section, 0, 3, 0, 0, dynstr_at, len(strings), 0, 0, 1, 0)
    sections += struct.pack(section, 0, 0x6FFFFFFE, 0, 0, verneed_at, len(verneed), 1, 1, 8, 0)
    ident = b"\x7fELF" + bytes([2, 1 if order == "<" else 2, 1]) + bytes(9)
    header = ident + struct.pack(order + "HHIQQQIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 0)
    return header + strings + verneed + sections


def check(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(path), *args], capture_output=True, text=True)


def test_the_newest_glibc_version_and_the_limit(tmp_path):
    binary = tmp_path / "bootstrap"
    binary.write_bytes(elf_image(62, ["GLIBC_2.2.5", "GLIBC_2.35", "GLIBC_2.17"]))
    run = check(binary, "--machine", "x86_64", "--max-glibc", "2.34")
    assert run.returncode == 1
    assert "x86_64, needs GLIBC_2.35" in run.stdout
    assert "needs GLIBC_2.35, newer than 2.34" in run.stderr
    assert check(binary, "--machine", "x86_64", "--max-glibc", "2.35").returncode == 0


def test_the_machine_and_the_byte_order(tmp_path):
    binary = tmp_path / "bootstrap"
    binary.write_bytes(elf_image(183, ["GLIBC_2.17", "GLIBC_PRIVATE"], order=">"))
    assert check(binary, "--machine", "arm64", "--max-glibc", "2.34").returncode == 0
    wrong = check(binary, "--machine", "x86_64")
    assert wrong.returncode == 1
    assert "is arm64, not x86_64" in wrong.stderr


def test_a_static_binary_needs_no_glibc(tmp_path):
    binary = tmp_path / "bootstrap"
    image = bytearray(elf_image(62, ["GLIBC_2.17"]))
    struct.pack_into("<Q", image, 0x28, 0)  # e_shoff 0: no section headers, no version needs
    binary.write_bytes(bytes(image))
    run = check(binary, "--max-glibc", "2.34")
    assert run.returncode == 0
    assert "needs no glibc" in run.stdout


def test_what_is_not_an_elf_binary(tmp_path):
    text = tmp_path / "policy.yaml"
    text.write_text("rules: []\n")
    run = check(text)
    assert run.returncode == 2
    assert "not an ELF file" in run.stderr


def test_a_real_binary_as_objdump_reads_it():
    """The Python running this test: the newest GLIBC_ version equals objdump -T's."""
    binary = Path(sys.executable).resolve()
    run = check(binary)
    assert run.returncode == 0, run.stderr
    found = re.search(r"needs (GLIBC_[0-9.]+)", run.stdout)
    assert found, run.stdout
    if shutil.which("objdump") is None:
        pytest.skip("objdump is not installed: only this reader's answer was checked")
    dump = subprocess.run(["objdump", "-T", str(binary)], capture_output=True, text=True, check=True).stdout
    versions = sorted(set(re.findall(r"GLIBC_([0-9.]+)", dump)), key=lambda v: tuple(map(int, v.split("."))))
    assert found.group(1) == "GLIBC_" + versions[-1]
