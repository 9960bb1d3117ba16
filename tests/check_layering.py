#!/usr/bin/env python3
"""The module layering check (a test): every #include "gps/<module>/..." in
include/gps/<m>/ and src/<m>/ must name <m> itself or a module <m> depends on,
directly or through others, as CMakeLists.txt declares (it writes the
declarations to <build>/gps_layering.txt in bottom-up order); and a module may
depend only on modules listed before it, so the graph has no cycle.

  python3 tests/check_layering.py SOURCE_DIR BUILD_DIR/gps_layering.txt
"""
import os
import re
import sys


def main():
    src, layering = sys.argv[1], sys.argv[2]
    order, deps = [], {}
    for line in open(layering):
        if ":" not in line:
            continue
        mod, rest = line.split(":", 1)
        order.append(mod.strip())
        deps[mod.strip()] = rest.replace(";", " ").split()
    errors = []
    for i, mod in enumerate(order):
        for d in deps[mod]:
            if d not in order[:i]:
                errors.append(f"CMakeLists.txt: module {mod} depends on {d}, which is not below it (a cycle)")
    closure = {}
    for mod in order:  # bottom-up, so the dependencies' closures are known
        c = set()
        for d in deps[mod]:
            c |= {d} | closure.get(d, set())
        closure[mod] = c
    pattern = re.compile(r'#include "gps/(\w+)/')
    for mod in order:
        for base in (os.path.join(src, "include", "gps", mod), os.path.join(src, "src", mod)):
            for folder, _, files in os.walk(base):
                for f in sorted(files):
                    path = os.path.join(folder, f)
                    for n, line in enumerate(open(path, errors="replace"), 1):
                        m = pattern.match(line)
                        if m and m.group(1) != mod and m.group(1) not in closure[mod]:
                            rel = os.path.relpath(path, src)
                            errors.append(f"{rel}:{n}: module {mod} includes gps/{m.group(1)}/, which it does not "
                                          f"depend on (CMakeLists.txt GPS_DEPS_{mod}: {' '.join(deps[mod]) or '-'})")
    for e in errors:
        print(e)
    print(f"{len(order)} modules, {sum(len(v) for v in deps.values())} declared edges, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
