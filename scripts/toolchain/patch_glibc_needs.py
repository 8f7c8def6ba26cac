#!/usr/bin/env python3
"""Rewrite a shared object's GLIBC_2.38 version needs to GLIBC_2.2.5.

Debian sid's libLLVM is built against glibc 2.38; bookworm has 2.36. Only eight
symbols need 2.38 (cleared with `patchelf --clear-symbol-version` beforehand and
provided by isoc23_shim.c); this rewrites the remaining `.gnu.version_r` entries so
the dynamic loader accepts the library. Both hash and name offset must change, and
the name must point at an existing "GLIBC_2.2.5" string: overwriting the shared
"GLIBC_2.38" string in place would break the other library's entry.

Usage: patch_glibc_needs.py <libLLVM.so>   (needs pyelftools)
"""
import struct
import sys

from elftools.elf.elffile import ELFFile

OLD, NEW = "GLIBC_2.38", "GLIBC_2.2.5"


def elf_hash(name: str) -> int:
    h = 0
    for c in name.encode():
        h = (h << 4) + c
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g
    return h & 0xFFFFFFFF


def main(path: str) -> int:
    data = bytearray(open(path, "rb").read())
    with open(path, "rb") as f:
        elf = ELFFile(f)
        verneed = elf.get_section_by_name(".gnu.version_r")
        dynstr = elf.get_section_by_name(".dynstr")
        strtab = bytes(data[dynstr["sh_offset"] : dynstr["sh_offset"] + dynstr["sh_size"]])
        new_name = strtab.index(b"\x00" + NEW.encode() + b"\x00") + 1
        rewritten = 0
        p = verneed["sh_offset"]
        while True:
            _, count, _, aux, next_need = struct.unpack_from("<HHIII", data, p)
            a = p + aux
            for _ in range(count):
                vna_hash, flags, other, _, next_aux = struct.unpack_from("<IHHII", data, a)
                if vna_hash == elf_hash(OLD):
                    struct.pack_into("<IHHI", data, a, elf_hash(NEW), flags, other, new_name)
                    rewritten += 1
                if not next_aux:
                    break
                a += next_aux
            if not next_need:
                break
            p += next_need
    open(path, "wb").write(data)
    print(f"rewrote {rewritten} {OLD} version need(s) to {NEW}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
