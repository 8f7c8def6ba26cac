#!/usr/bin/env python3
"""Make a copy of Rust's std sources that builds for target_os = "solana".

Upstream std knows no Solana platform. The edits are the smallest that let
`-Zbuild-std` compile it for SBF (see docs/toolchain.md):
  * sys/alloc: MIN_ALIGN for target_arch = "bpf"; a `System` allocator that
    returns null (Solana programs install their own bump allocator over the
    runtime heap as the global allocator);
  * io error / random / thread_local: treat "solana" like "vexos" (no OS, no
    threads);
  * hash/random: RandomState::new() uses fixed keys, because its thread-local
    would become a writable static, which SBPF cannot relocate.

Usage: std_overlay.py <rust-src library dir> <destination dir>
Every edit asserts that its anchor text exists, so a new rustc-web that moved
the code fails here with a clear message instead of building a broken std.
"""
import pathlib
import shutil
import sys

SOLANA_ALLOC = '''use crate::alloc::{GlobalAlloc, Layout, System};

// Solana programs register their own global allocator (a bump allocator over the
// runtime's heap region); std's System allocator is never the one in use.
#[stable(feature = "alloc_system_type", since = "1.28.0")]
unsafe impl GlobalAlloc for System {
    #[inline]
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        crate::ptr::null_mut()
    }

    #[inline]
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}
'''


def edit(path: pathlib.Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    found = text.count(old)
    if found < count:
        sys.exit(f"std_overlay: expected {count}x {old!r} in {path}, found {found}; "
                 "the rust-web-src version changed, update scripts/toolchain/std_overlay.py")
    path.write_text(text.replace(old, new))


def main(src: str, dst: str) -> None:
    src_dir, dst_dir = pathlib.Path(src), pathlib.Path(dst)
    if dst_dir.exists():
        shutil.rmtree(dst_dir)
    shutil.copytree(src_dir, dst_dir, symlinks=True)
    std = dst_dir / "std" / "src"

    alloc = std / "sys" / "alloc" / "mod.rs"
    edit(alloc, '    target_arch = "xtensa",\n)) {\n    8', '    target_arch = "xtensa",\n    target_arch = "bpf",\n)) {\n    8')
    edit(alloc, '    target_os = "vexos" => {\n        mod vexos;\n    }',
         '    target_os = "vexos" => {\n        mod vexos;\n    }\n    target_os = "solana" => {\n        mod solana;\n    }')
    (std / "sys" / "alloc" / "solana.rs").write_text(SOLANA_ALLOC)

    edit(std / "sys" / "io" / "error" / "mod.rs", 'target_os = "vexos",', 'target_os = "vexos",\n        target_os = "solana",')
    edit(std / "sys" / "random" / "mod.rs", 'target_os = "vexos",', 'target_os = "vexos",\n    target_os = "solana",', count=2)
    edit(std / "sys" / "thread_local" / "mod.rs", 'target_os = "vexos",', 'target_os = "vexos",\n        target_os = "solana",', count=2)

    random = std / "hash" / "random.rs"
    text = random.read_text()
    start = text.find("        thread_local!(static KEYS: Cell<(u64, u64)> = {")
    tail = "            RandomState { k0, k1 }\n        })\n"
    end = text.find(tail, start)
    if start < 0 or end < 0:
        sys.exit(f"std_overlay: RandomState::new body not found in {random}; update scripts/toolchain/std_overlay.py")
    end += len(tail)
    body = text[start:end]
    random.write_text(
        text[:start]
        + '        #[cfg(target_os = "solana")]\n'
        + "        return RandomState { k0: 0x736f_6c61_6e61_5f6b, k1: 0x6579_735f_6669_7865 };\n"
        + '        #[cfg(not(target_os = "solana"))]\n'
        + "        return {\n" + body + "        };\n"
        + text[end:]
    )
    print(f"std overlay written to {dst_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
