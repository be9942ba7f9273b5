"""Checks a Linux ELF binary before it ships: its instruction set, and the newest glibc symbol
version it needs (what `objdump -T` shows), read from its `.gnu.version_r` section with the
standard library only.

    python3 scripts/elf_check.py BINARY [--machine x86_64|arm64] [--max-glibc 2.34]

Prints what the binary is and needs (`x86_64, needs GLIBC_2.30`; `no glibc` for a static
binary); exits 1 when the machine is not the one asked for or a needed glibc version is newer
than --max-glibc, 2 when the file is not an ELF binary it can read.
"""

import argparse
import struct
import sys

# e_machine values (the ELF specification's registry) for the Lambda architectures.
MACHINES = {62: "x86_64", 183: "arm64"}
# The section type of the version needs (.gnu.version_r): which versions of which library.
SHT_GNU_VERNEED = 0x6FFFFFFE


class NotElf(Exception):
    """The file is not an ELF binary this reader understands."""


def read_elf(data: bytes) -> tuple[str, dict[str, set[str]]]:
    """(machine, {library: versions it needs}) of an ELF image."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise NotElf("not an ELF file")
    bits = {1: 32, 2: 64}.get(data[4])
    order = {1: "<", 2: ">"}.get(data[5])
    if bits is None or order is None:
        raise NotElf(f"unknown ELF class {data[4]} or byte order {data[5]}")
    (e_machine,) = struct.unpack_from(order + "H", data, 18)
    machine = MACHINES.get(e_machine, f"e_machine {e_machine}")
    if bits == 64:
        (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
        layout = order + "IIQQQQIIQQ"
    else:
        (shoff,) = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
        layout = order + "IIIIIIIIII"
    if shoff == 0:
        return machine, {}

    def section(index: int) -> dict[str, int]:
        fields = struct.unpack_from(layout, data, shoff + index * shentsize)
        return dict(zip(("name", "type", "flags", "addr", "offset", "size", "link", "info"), fields))

    if shnum == 0:  # extended numbering: the count is section 0's size
        shnum = section(0)["size"]
    sections = [section(i) for i in range(shnum)]
    needs: dict[str, set[str]] = {}
    for verneed in (s for s in sections if s["type"] == SHT_GNU_VERNEED):
        strings = sections[verneed["link"]]

        def name(offset: int) -> str:
            start = strings["offset"] + offset
            return data[start : data.index(b"\0", start)].decode()

        entry = verneed["offset"]
        for _ in range(verneed["info"]):
            _, count, file, aux, following = struct.unpack_from(order + "HHIII", data, entry)
            versions = needs.setdefault(name(file), set())
            at = entry + aux
            for _ in range(count):
                _, _, _, vna_name, vna_next = struct.unpack_from(order + "IHHII", data, at)
                versions.add(name(vna_name))
                at += vna_next
            if following == 0:
                break
            entry += following
    return machine, needs


def newest_glibc(needs: dict[str, set[str]]) -> tuple[int, ...] | None:
    """The newest GLIBC_x.y[.z] version any library's needs name, as numbers."""
    versions = [
        tuple(int(part) for part in v.removeprefix("GLIBC_").split("."))
        for vs in needs.values()
        for v in vs
        if v.startswith("GLIBC_") and v.removeprefix("GLIBC_").replace(".", "").isdigit()
    ]
    return max(versions, default=None)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--machine", choices=sorted(MACHINES.values()))
    parser.add_argument("--max-glibc", help="the newest glibc version allowed, e.g. 2.34")
    args = parser.parse_args(argv)
    try:
        with open(args.binary, "rb") as f:
            machine, needs = read_elf(f.read())
    except (OSError, NotElf, struct.error, ValueError, IndexError) as error:
        print(f"elf_check.py: {args.binary}: {error}", file=sys.stderr)
        return 2
    newest = newest_glibc(needs)
    shown = "GLIBC_" + ".".join(map(str, newest)) if newest else "no glibc"
    print(f"elf_check.py: {args.binary}: {machine}, needs {shown}")
    failed = False
    if args.machine and machine != args.machine:
        print(f"elf_check.py: {args.binary} is {machine}, not {args.machine}", file=sys.stderr)
        failed = True
    if args.max_glibc and newest:
        allowed = tuple(int(part) for part in args.max_glibc.split("."))
        if newest > allowed:
            print(f"elf_check.py: {args.binary} needs {shown}, newer than {args.max_glibc}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
