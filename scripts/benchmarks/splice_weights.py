#!/usr/bin/env python3
"""Moves the functions of a partial benchmark run into a pallet's weights.rs.

usage: splice_weights.py PARTIAL WEIGHTS

PARTIAL is the output of `benchmark pallet --extrinsic a,b` with the same
template as WEIGHTS. Each function it holds replaces the function of the same
name in both impls of WEIGHTS (with its storage comments), and the header of
WEIGHTS gains a line saying which functions were re-measured, when, and with
which steps and repeats.
"""
import re
import sys


def functions(text, header):
    """The functions of the impl opened by `header`: name -> source chunk
    (its doc comments, signature and body)."""
    start = text.index(header + "\n") + len(header) + 1
    end = text.index("\n}\n", start)
    found, chunk = {}, []
    for line in text[start:end].split("\n"):
        chunk.append(line)
        if line == "\t}":
            source = "\n".join(chunk)
            found[re.search(r"\tfn (\w+)\(", source).group(1)] = source
            chunk = []
    return found


def impl_headers(text):
    return [line for line in text.split("\n") if line.startswith("impl")]


def header_value(text, pattern):
    match = re.search(pattern, text)
    if match is None:
        sys.exit(f"the partial run's header lacks {pattern!r}")
    return match.group(1)


def main():
    partial_path, weights_path = sys.argv[1:3]
    partial = open(partial_path).read()
    weights = open(weights_path).read()
    replaced = []
    for header in impl_headers(partial):
        if header not in weights:
            sys.exit(f"{weights_path} has no `{header}`")
        current = functions(weights, header)
        for name, source in functions(partial, header).items():
            if name not in current:
                sys.exit(f"{weights_path} has no `fn {name}` in `{header}`")
            weights = weights.replace(current[name], source, 1)
            if name not in replaced:
                replaced.append(name)
    date = header_value(partial, r"CLI [\d.]+ on (\S+);")
    steps = header_value(partial, r"STEPS: `(\d+)`")
    repeat = header_value(partial, r"REPEAT: `(\d+)`")
    note = (
        f"//! Re-measured on {date} (STEPS `{steps}`, REPEAT `{repeat}`, same command with "
        f"`--extrinsic {','.join(replaced)}`): {', '.join(replaced)}."
    )
    anchor = "\n\n// Executed command:"
    weights = weights.replace(anchor, "\n" + note + anchor, 1)
    open(weights_path, "w").write(weights)
    print(f"{weights_path}: re-measured {', '.join(replaced)}")


if __name__ == "__main__":
    main()
