#!/usr/bin/env python3
"""Layer rules of backend/src (issue 9), checked from the source text. Python 3.11, stdlib only.

Usage (from anywhere):
    scripts/lint/imports.py [--root backend/src]   # prints `path:line: rule: detail`, exit 1 if any
    scripts/lint/imports.py --self-test            # runs scripts/lint/test_imports.py (fixtures)

Rules (each path is resolved to an absolute module path first, so `super::super::services` from
`store/x.rs` counts as `crate::services`; paths count in `use` lines and anywhere in code, e.g.
`crate::services::error::Error::NotFound(..)` in an expression; comments, doc comments, string,
raw-string and char literals are ignored):
  store-imports-services   nothing under store/ refers to crate::services
  services-uses-actix      nothing under services/ names `actix` or any `actix_*` crate
  connectors-import-upper  nothing under connectors/ refers to crate::store or crate::services
  work-imports-upper       nothing under work/ (the engine) refers to crate::services or crate::api,
                           nor names actix: kinds reach it only through its `Kind` trait
  domain-imports-crate     nothing under domain/ (plain types and pure rules) refers to any other
                           module of the crate, nor names actix: every layer may use it
  imports-api              only api/ and the entry points (lib.rs, main.rs, cli.rs, startup.rs)
                           refer to crate::api
  import-cycle             no circle of references between files: the graph file -> file is built
                           from `crate::`, `super::` and `self::` paths (in `use` and in code), each
                           resolved to the deepest existing module file (an item of a `mod.rs`
                           resolves to that `mod.rs`; an inline `mod tests { .. }` belongs to its
                           file). `mod x;` declarations and bare relative paths (`use child::X`)
                           are not edges. Every strongly connected component of more than one
                           file is reported, one line per edge with every line it is made of.

Not wired into scripts/test.sh yet: the tree still has violations (issue 9 removes them).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ENTRY_POINTS = {"lib.rs", "main.rs", "cli.rs", "startup.rs"}
ACTIX = re.compile(r"actix(_\w+)?\Z")
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|::|\S")
RAW_STRING_START = re.compile(r"[bc]?r(#*)\"")


@dataclass(frozen=True, order=True)
class Violation:
    path: str  # relative to the checked root, with `/`
    line: int
    rule: str
    detail: str

    def render(self, prefix: str = "") -> str:
        return f"{prefix}{self.path}:{self.line}: {self.rule}: {self.detail}"


@dataclass
class Ref:
    """A path found in code: as written, resolved to absolute module segments, and its line."""

    written: str
    absolute: tuple[str, ...]
    line: int


@dataclass
class FileInfo:
    rel: str
    module: tuple[str, ...]
    refs: list[Ref] = field(default_factory=list)
    actix: list[tuple[int, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Lexing: blank out comments and literals (newlines kept, so line numbers hold).


def strip_comments_and_literals(src: str) -> str:
    out: list[str] = []
    i, n = 0, len(src)

    def blank(text: str) -> str:
        return "".join(c if c == "\n" else " " for c in text)

    while i < n:
        c = src[i]
        nxt = src[i + 1] if i + 1 < n else ""
        prev_ident = i > 0 and (src[i - 1].isalnum() or src[i - 1] == "_")
        if c == "/" and nxt == "/":
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(src[i:j]))
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(src[i:j]))
            i = j
        elif c in "rbc" and not prev_ident and (m := RAW_STRING_START.match(src, i)):
            end = src.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(blank(src[i:j]))
            i = j
        elif c == '"' or (c in "bc" and nxt == '"' and not prev_ident):
            j = i + (1 if c == '"' else 2)
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(blank(src[i:j]))
            i = j
        elif c == "'" or (c == "b" and nxt == "'" and not prev_ident):
            q = i if c == "'" else i + 1
            if q + 1 < n and src[q + 1] == "\\":  # '\n', '\'', '\\', '\u{..}'
                j = q + 3
                while j < n and src[j] != "'":
                    j += 1
                j = min(j + 1, n)
            elif q + 2 < n and src[q + 2] == "'":  # 'x'
                j = q + 3
            else:  # a lifetime or a label: 'a, 'static
                out.append(src[i : q + 1])
                i = q + 1
                continue
            out.append(blank(src[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokens(code: str) -> list[tuple[str, int]]:
    result, line, pos = [], 1, 0
    for m in TOKEN.finditer(code):
        line += code.count("\n", pos, m.start())
        pos = m.start()
        result.append((m.group(), line))
    return result


# ---------------------------------------------------------------------------------------------
# Paths: `use` trees and qualified paths in code, resolved against the module of their place.


def is_ident(t: str) -> bool:
    return bool(re.match(r"[A-Za-z_]\w*\Z", t))


def resolve(module: tuple[str, ...], segments: list[str]) -> tuple[str, ...] | None:
    """Absolute module segments of a path seen in `module`, or None if not crate-relative."""
    if not segments:
        return None
    head, rest = segments[0], segments[1:]
    if head == "crate":
        base = ()
    elif head in ("super", "self"):
        base = module
        rest = segments
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                if not base:
                    return None
                base = base[:-1]
            rest = rest[1:]
    else:
        return None
    return base + tuple(s for s in rest if s != "self")


def parse_use_tree(toks, i, prefix, leaves):
    """Parses one use tree at toks[i]; appends (segments, line) per leaf; returns the next index."""
    segs = list(prefix)
    if i < len(toks) and toks[i][0] == "::":
        i += 1
    while i < len(toks):
        t, line = toks[i]
        if t == "{":
            i += 1
            while i < len(toks) and toks[i][0] != "}":
                i = parse_use_tree(toks, i, segs, leaves)
                if i < len(toks) and toks[i][0] == ",":
                    i += 1
            return i + 1
        if t == "*":
            leaves.append((segs, line))
            return i + 1
        if is_ident(t):
            segs.append(t)
            if i + 1 < len(toks) and toks[i + 1][0] == "::":
                i += 2
                continue
            leaves.append((segs, line))
            i += 1
            if i + 1 < len(toks) and toks[i][0] == "as":
                i += 2
            return i
        return i  # unexpected token: stop this tree
    return i


def scan_file(rel: str, module: tuple[str, ...], src: str) -> FileInfo:
    info = FileInfo(rel=rel, module=module)
    toks = tokens(strip_comments_and_literals(src))
    inline: list[tuple[str, int]] = []  # (module name, brace depth at which it opened)
    depth, i = 0, 0
    while i < len(toks):
        t, line = toks[i]
        here = module + tuple(name for name, _ in inline)
        if ACTIX.match(t):
            info.actix.append((line, t))
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if inline and inline[-1][1] == depth:
                inline.pop()
        elif t == "mod" and i + 2 < len(toks) and is_ident(toks[i + 1][0]) and toks[i + 2][0] == "{":
            inline.append((toks[i + 1][0], depth))
            i += 2
            continue
        elif t == "use":
            leaves: list[tuple[list[str], int]] = []
            j = parse_use_tree(toks, i + 1, [], leaves)
            for k in range(i + 1, min(j, len(toks))):
                if ACTIX.match(toks[k][0]):
                    info.actix.append((toks[k][1], toks[k][0]))
            for segs, leaf_line in leaves:
                absolute = resolve(here, segs)
                if absolute is not None:
                    info.refs.append(Ref("::".join(segs), absolute, leaf_line))
            i = max(j, i + 1)
            continue
        elif t in ("crate", "super", "self") and i + 1 < len(toks) and toks[i + 1][0] == "::":
            if not (i > 0 and toks[i - 1][0] in ("$", "::")):
                segs, j = [t], i + 1
                while j + 1 < len(toks) and toks[j][0] == "::" and is_ident(toks[j + 1][0]):
                    segs.append(toks[j + 1][0])
                    j += 2
                absolute = resolve(here, segs)
                if absolute is not None:
                    info.refs.append(Ref("::".join(segs), absolute, line))
                for k in range(i + 1, j):
                    if ACTIX.match(toks[k][0]):
                        info.actix.append((toks[k][1], toks[k][0]))
                i = j
                continue
        i += 1
    return info


# ---------------------------------------------------------------------------------------------
# The tree, the rules, the graph.


def module_of(rel: str) -> tuple[str, ...]:
    parts = rel[: -len(".rs")].split("/")
    if parts[-1] == "mod" or rel in ("lib.rs", "main.rs"):
        parts = parts[:-1]
    return tuple(parts)


def load(root: Path) -> dict[str, FileInfo]:
    files = {}
    for p in sorted(root.rglob("*.rs")):
        rel = p.relative_to(root).as_posix()
        files[rel] = scan_file(rel, module_of(rel), p.read_text(encoding="utf-8"))
    return files


def target_file(modules: dict[tuple[str, ...], str], absolute: tuple[str, ...]) -> str | None:
    for k in range(len(absolute), -1, -1):
        if absolute[:k] in modules:
            return modules[absolute[:k]]
    return None


def layer_violations(files: dict[str, FileInfo]) -> list[Violation]:
    out = []
    for rel, info in files.items():
        top = rel.split("/")[0]
        for ref in info.refs:
            first = ref.absolute[0] if ref.absolute else ""
            if top == "store" and first == "services":
                out.append(Violation(rel, ref.line, "store-imports-services", ref.written))
            if top == "connectors" and first in ("store", "services"):
                out.append(Violation(rel, ref.line, "connectors-import-upper", ref.written))
            if top == "work" and first in ("services", "api"):
                out.append(Violation(rel, ref.line, "work-imports-upper", ref.written))
            if top == "domain" and first and first != "domain":
                out.append(Violation(rel, ref.line, "domain-imports-crate", ref.written))
            if top != "api" and rel not in ENTRY_POINTS and first == "api":
                out.append(Violation(rel, ref.line, "imports-api", ref.written))
        if top == "services":
            for line, name in info.actix:
                out.append(Violation(rel, line, "services-uses-actix", name))
        if top == "domain":
            for line, name in info.actix:
                out.append(Violation(rel, line, "domain-imports-crate", name))
        if top == "work":
            for line, name in info.actix:
                out.append(Violation(rel, line, "work-imports-upper", name))
    return out


def edges(files: dict[str, FileInfo]) -> dict[str, dict[str, list[int]]]:
    """file -> file -> lines, without self-edges. main.rs is its own crate: its paths are skipped."""
    modules = {info.module: rel for rel, info in files.items() if rel != "main.rs"}
    graph: dict[str, dict[str, list[int]]] = {rel: {} for rel in files}
    for rel, info in files.items():
        if rel == "main.rs":
            continue
        for ref in info.refs:
            dst = target_file(modules, ref.absolute)
            if dst is not None and dst != rel:
                lines = graph[rel].setdefault(dst, [])
                if ref.line not in lines:
                    lines.append(ref.line)
    return graph


def strongly_connected(graph: dict[str, dict[str, list[int]]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one node, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def cycle_violations(files: dict[str, FileInfo]) -> list[Violation]:
    graph = edges(files)
    out = []
    for n, component in enumerate(strongly_connected(graph), 1):
        members = set(component)
        names = ", ".join(component)
        for src in component:
            for dst, lines in sorted(graph[src].items()):
                if dst in members:
                    more = f" (also lines {', '.join(map(str, lines[1:]))})" if lines[1:] else ""
                    detail = f"-> {dst}{more} [circle {n} of {len(component)} files: {names}]"
                    out.append(Violation(src, lines[0], "import-cycle", detail))
    return out


def check(root: Path) -> list[Violation]:
    files = load(root)
    return sorted(set(layer_violations(files)) | set(cycle_violations(files)))


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    default_root = here.parent.parent / "backend" / "src"
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=default_root, help="the crate's src folder")
    ap.add_argument("--self-test", action="store_true", help="run the fixture tests and exit")
    args = ap.parse_args(argv)
    if args.self_test:
        import unittest

        sys.dont_write_bytecode = True  # no __pycache__ left in the tree
        sys.path.insert(0, str(here))
        suite = unittest.defaultTestLoader.loadTestsFromName("test_imports")
        ok = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
        return 0 if ok else 1
    if not args.root.is_dir():
        print(f"imports.py: {args.root} is not a folder", file=sys.stderr)
        return 2
    prefix = os.path.relpath(args.root.resolve(), Path.cwd()).replace(os.sep, "/") + "/"
    violations = check(args.root)
    for v in violations:
        print(v.render(prefix))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
