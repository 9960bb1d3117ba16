#!/usr/bin/env python3
"""The docs check: every relative link resolves, every documented gps command holds.

    check_docs.py REPO_ROOT GPS_BINARY PYTHON

Reads README.md, CHANGELOG.md, configs/README.md and docs/**/*.md and checks:

1. Links. Every relative link ([text](path), ![alt](path), [ref]: path)
   outside code names an existing file or folder; a #anchor names a heading
   of the target page (GitHub's slugs: lower case, punctuation dropped,
   spaces to hyphens, -1, -2 for repeats) or an <a id/name> in it.
2. Commands. Every command line in a fenced code block that starts with
   `build/gps ` (also after `&&`, `;` or `VAR=value`; `\\` continues a line):
   - `train` and `compare` lines run with `--check` appended (the config is
     resolved and validated, nothing is written) and must exit 0;
   - `launch ... -- train ...` lines: `gps launch --help`, and the train part
     with `--check`;
   - other subcommands: `gps <subcommand> --help` proves that it exists;
   - a line that would run (train, compare, launch's train, a runnable
     block's line) but cannot as written (placeholders such as CONFIG, DIR,
     <...>, ..., /path/to/, $VAR, or a run directory that only an earlier
     run makes) is skipped by the patterns in SKIP below: it is listed in
     the report with the pattern's reason, and its subcommand still checked.
3. Runnable blocks. A fenced block whose preceding line is
       <!-- docs-test: run KEY=VALUE ... -->
   is run for real: each `build/gps` line with KEY=VALUE ... and
   train.out_dir=<temp>/runs appended, relative -o/--out paths moved into
   the temp folder, cwd the repo root, within RUN_TIMEOUT_S; an output file
   named by -o must exist afterwards. A block preceded by
       <!-- docs-test: python -->
   is run with PYTHON (cwd a temp folder; PYTHONPATH gains the build tree's
   python/ folder next to GPS_BINARY, where gps_ssl is built; listed as
   skipped when gps_ssl is neither built there nor installed). A block
   preceded by <!-- docs-test: skip REASON --> is not checked (listed).

Prints a report naming file:line for each failure; exits 1 on any failure,
2 on bad arguments. Standard library only.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse

CHECK_TIMEOUT_S = 60  # one --check or --help
RUN_TIMEOUT_S = 120   # one runnable command or python block

# Lines that cannot run as written: (reason, pattern on the command text).
SKIP = [
    ("placeholder <...>", re.compile(r"<[^<>\s][^<>]*>")),
    ("placeholder ...", re.compile(r"\.\.\.|…")),
    ("placeholder word (CONFIG, RUN, RUN_DIR, DIR, FILE, PATH)",
     re.compile(r"(?<![\w.-])(CONFIG|RUN_DIR|RUN|DIR|FILE|PATH)(?![\w-])")),
    ("placeholder /path/to/", re.compile(r"/path/to/")),
    ("shell variable", re.compile(r"\$\{?\w+")),
    ("needs an earlier run (--resume/--run runs/...)", re.compile(r"--(resume|run)[ =](?!auto\b)\S+")),
]

CHECKED_SUBCOMMANDS = ("train", "compare")
NESTED = {"data"}  # subcommands with their own subcommands: `gps data pack --help`
SEPARATORS = {"&&", "||", ";", "|", "&"}


class Report:
    def __init__(self):
        self.failures = []  # (where, message)
        self.skipped = []   # (where, reason, text)
        self.counts = {"links": 0, "anchors": 0, "files": 0, "commands": 0, "checked": 0, "help": 0, "run": 0,
                       "skipped": 0, "python": 0, "python_skipped": 0, "blocks_skipped": 0}

    def fail(self, where, message):
        self.failures.append((where, message))


# ---------------------------------------------------------------- markdown


class Block:
    def __init__(self, line, lang, marker, lines):
        self.line = line      # 1-based line of the opening fence
        self.lang = lang
        self.marker = marker  # the docs-test marker's text, or None
        self.lines = lines    # [(1-based line, text)]


def parse_markdown(text):
    """(prose lines [(line, text)] outside fenced blocks, fenced blocks)."""
    prose, blocks = [], []
    lines = text.split("\n")
    i = 0
    last_nonblank = None
    while i < len(lines):
        m = re.match(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if m:
            fence, lang, start = m.group(2), m.group(3), i
            marker = None
            if last_nonblank is not None:
                mm = re.match(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$", last_nonblank)
                if mm:
                    marker = mm.group(1)
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$",
                                                    lines[i]):
                body.append((i + 1, lines[i]))
                i += 1
            blocks.append(Block(start + 1, lang, marker, body))
            last_nonblank = None
            i += 1
            continue
        prose.append((i + 1, lines[i]))
        if lines[i].strip():
            last_nonblank = lines[i]
        i += 1
    return prose, blocks


INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


def github_slug(heading):
    """GitHub's anchor for a heading's text."""
    t = INLINE_CODE.sub(lambda m: m.group(2), heading)
    t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", t)  # links and images: their text
    t = re.sub(r"<[^>]+>", "", t)                     # inline HTML
    t = t.strip().lower()
    out = []
    for ch in t:
        if ch in " -_" or ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc", "Nd", "Pc"):
            out.append("-" if ch == " " else ch)
    return "".join(out)


_anchor_cache = {}


def anchors_of(path):
    if path not in _anchor_cache:
        with open(path, encoding="utf-8") as f:
            prose, _ = parse_markdown(f.read())
        seen, anchors = {}, set()
        for _, text in prose:
            m = re.match(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", text)
            if m:
                slug = github_slug(m.group(2))
                n = seen.get(slug, 0)
                seen[slug] = n + 1
                anchors.add(slug if n == 0 else f"{slug}-{n}")
            for a in HTML_ANCHOR.findall(text):
                anchors.add(a)
        _anchor_cache[path] = anchors
    return _anchor_cache[path]


def paragraphs(prose):
    """Runs of consecutive non-blank prose lines: [(first line, text with newlines)], so that a link
    whose text wraps is found too."""
    out, cur, start, prev = [], [], None, None
    for line_no, text in prose:
        if not text.strip() or (prev is not None and line_no != prev + 1):
            if cur:
                out.append((start, "\n".join(cur)))
            cur, start = [], None
        if text.strip():
            if start is None:
                start = line_no
            cur.append(text)
        prev = line_no
    if cur:
        out.append((start, "\n".join(cur)))
    return out


def link_targets(start, text):
    """(line, target) of every link in a paragraph; inline code spans are blanked first."""
    text = re.sub(r"(`+)(.+?)\1", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    found = [(start + text.count("\n", 0, m.start(1)), m.group(1)) for m in LINK.finditer(text)]
    for i, line in enumerate(text.split("\n")):
        m = REF_DEF.match(line)
        if m:
            found.append((start + i, m.group(1)))
    return found


def check_links(root, rel, prose, report):
    path = os.path.join(root, rel)
    for line_no, target in (t for start, text in paragraphs(prose) for t in link_targets(start, text)):
        if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        report.counts["links"] += 1
        where = f"{rel}:{line_no}"
        file_part, _, anchor = target.partition("#")
        file_part = urllib.parse.unquote(file_part)
        dest = path if not file_part else os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if not os.path.realpath(dest).startswith(os.path.realpath(root) + os.sep):
            report.fail(where, f"link '{target}' leaves the repository")
            continue
        if not os.path.exists(dest):
            report.fail(where, f"link '{target}': {os.path.relpath(dest, root)} does not exist")
            continue
        if anchor:
            report.counts["anchors"] += 1
            page = dest
            if os.path.isdir(page):
                page = os.path.join(page, "README.md")
            if not page.endswith(".md") or not os.path.isfile(page):
                report.fail(where, f"link '{target}': #{anchor} on a file that is not a markdown page")
            elif urllib.parse.unquote(anchor) not in anchors_of(page):
                near = sorted(a for a in anchors_of(page) if a[:6] == anchor[:6])[:3]
                report.fail(where, f"link '{target}': no heading #{anchor} in {os.path.relpath(page, root)}"
                            + (f" (near: {', '.join('#' + a for a in near)})" if near else ""))


# ---------------------------------------------------------------- commands


def logical_lines(block):
    """Block lines with `\\` continuations joined: [(first line, text)]."""
    out, cur, start = [], "", None
    for line_no, text in block.lines:
        if start is None:
            start = line_no
        if text.rstrip().endswith("\\"):
            cur += text.rstrip()[:-1] + " "
            continue
        out.append((start, cur + text))
        cur, start = "", None
    if start is not None:
        out.append((start, cur))
    return out


def gps_segments(text):
    """The `build/gps ...` commands of one shell line: [(text, argv after build/gps)]."""
    try:
        lex = shlex.shlex(text, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        tokens = list(lex)
    except ValueError:
        return []
    segments, cur = [], []
    for t in tokens + [";"]:
        if t in SEPARATORS:
            if cur:
                segments.append(cur)
            cur = []
        else:
            cur.append(t)
    out = []
    for seg in segments:
        while seg and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", seg[0]):  # VAR=value before the command
            seg = seg[1:]
        if seg and seg[0] == "build/gps":
            out.append((" ".join(seg), seg[1:]))
    return out


def run(cmd, cwd, timeout, env=None):
    t0 = time.time()
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        return r.returncode, r.stdout + r.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, time.time() - t0


def tail(text, n=6):
    lines = [l for l in text.strip().split("\n") if l.strip()]
    return "\n      ".join(lines[-n:])


class Commands:
    def __init__(self, root, gps, python, tmp, report):
        self.root, self.gps, self.python, self.tmp, self.report = root, gps, python, tmp, report
        self.help_ok = {}  # subcommand tuple -> error text or ""
        self.n_out = 0

    def help_error(self, words):
        key = tuple(words)
        if key not in self.help_ok:
            rc, out, _ = run([self.gps, *words, "--help"], self.root, CHECK_TIMEOUT_S)
            self.help_ok[key] = "" if rc == 0 else f"`gps {' '.join(words)} --help` exited {rc}: {tail(out)}"
            self.report.counts["help"] += 1
        return self.help_ok[key]

    def subcommand(self, argv):
        if not argv or argv[0].startswith("-"):
            return []
        if argv[0] in NESTED and len(argv) > 1 and not argv[1].startswith("-"):
            return argv[:2]
        return argv[:1]

    def check_line(self, where, text, argv):
        """--check for train/compare, --help for the rest."""
        sub = self.subcommand(argv)
        if not sub:
            if argv and argv[0] in ("--version", "--help"):
                rc, out, _ = run([self.gps, argv[0]], self.root, CHECK_TIMEOUT_S)
                if rc != 0:
                    self.report.fail(where, f"`{text}` exited {rc}: {tail(out)}")
            else:
                self.report.fail(where, f"`{text}`: no subcommand")
            return
        err = self.help_error(sub)
        if err:
            self.report.fail(where, err)
            return
        if sub[0] in CHECKED_SUBCOMMANDS:
            self.check_config(where, text, argv)
        elif sub[0] == "launch" and "--" in argv:
            inner = argv[argv.index("--") + 1:]
            if inner[:1] == ["train"]:
                self.check_config(where, text, inner)

    def check_config(self, where, text, argv):
        cmd = [self.gps, *argv, f"train.out_dir={os.path.join(self.tmp, 'check-runs')}", "--check"]
        rc, out, _ = run(cmd, self.root, CHECK_TIMEOUT_S)
        self.report.counts["checked"] += 1
        if rc != 0 or "config OK" not in out:
            self.report.fail(where, f"`{text} --check` exited {rc}" + ("" if rc != 0 else " without 'config OK'")
                             + f": {tail(out)}")

    def run_line(self, where, text, argv, overrides):
        """A runnable block's command, for real, into the temp folder."""
        argv = list(argv)
        outputs = []
        for i, a in enumerate(argv[:-1]):
            if a in ("-o", "--out") and not os.path.isabs(argv[i + 1]):
                self.n_out += 1
                argv[i + 1] = os.path.join(self.tmp, f"out{self.n_out}", argv[i + 1])
                os.makedirs(os.path.dirname(argv[i + 1]), exist_ok=True)
                if a == "-o":
                    outputs.append(argv[i + 1])
        cmd = [self.gps, *argv, *overrides, f"train.out_dir={os.path.join(self.tmp, 'runs')}"]
        rc, out, secs = run(cmd, self.root, RUN_TIMEOUT_S)
        self.report.counts["run"] += 1
        if rc is None:
            self.report.fail(where, f"`{text}` (run) took more than {RUN_TIMEOUT_S} s: {tail(out)}")
        elif rc != 0:
            self.report.fail(where, f"`{text}` (run with {' '.join(overrides)}) exited {rc}: {tail(out)}")
        else:
            for o in outputs:
                if not os.path.exists(o) or (os.path.isfile(o) and os.path.getsize(o) == 0):
                    self.report.fail(where, f"`{text}` (run) exited 0 but wrote no {os.path.basename(o)}")
            print(f"  ran  {where}: {text} ({secs:.1f} s)")

    def python_env(self):
        """PYTHONPATH with the build tree's gps_ssl, or None when gps_ssl can be found nowhere."""
        env = dict(os.environ)
        build_python = os.path.join(os.path.dirname(self.gps), "python")
        pkg = os.path.join(build_python, "gps_ssl")
        if os.path.isdir(pkg) and any(f.startswith("_core") for f in os.listdir(pkg)):
            env["PYTHONPATH"] = build_python + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            return env
        rc, _, _ = run([self.python, "-c", "import gps_ssl"], self.root, CHECK_TIMEOUT_S, env)
        return env if rc == 0 else None

    def run_python(self, where, code):
        env = self.python_env()
        if env is None:  # a build without GPS_BUILD_PYTHON, and no installed gps_ssl
            self.report.skipped.append((where, "gps_ssl is not built next to the gps binary nor installed",
                                        "(python block)"))
            self.report.counts["python_skipped"] += 1
            return
        cwd = tempfile.mkdtemp(prefix="py-", dir=self.tmp)
        rc, out, secs = run([self.python, "-c", code], cwd, RUN_TIMEOUT_S, env)
        self.report.counts["python"] += 1
        if rc is None:
            self.report.fail(where, f"python block took more than {RUN_TIMEOUT_S} s: {tail(out)}")
        elif rc != 0:
            self.report.fail(where, f"python block exited {rc}: {tail(out, 10)}")
        else:
            print(f"  ran  {where}: python block ({secs:.1f} s): {tail(out, 1)}")


def check_block(rel, block, cmds, report):
    marker = block.marker
    if marker is not None and marker.split()[:1] == ["skip"]:
        report.counts["blocks_skipped"] += 1
        report.skipped.append((f"{rel}:{block.line}", "docs-test: " + marker, "(whole block)"))
        return
    if marker is not None and marker.split()[:1] == ["python"]:
        code = "\n".join(t for _, t in block.lines)
        cmds.run_python(f"{rel}:{block.line}", code)
        return
    runnable = marker is not None and marker.split()[:1] == ["run"]
    if marker is not None and not runnable:
        report.fail(f"{rel}:{block.line - 1}", f"unknown docs-test marker '{marker}' (expected run, python, skip)")
        return
    overrides = shlex.split(marker)[1:] if runnable else []
    for line_no, text in logical_lines(block):
        for seg_text, argv in gps_segments(text):
            report.counts["commands"] += 1
            where = f"{rel}:{line_no}"
            sub = cmds.subcommand(argv)
            executes = runnable or (sub[:1] and sub[0] in CHECKED_SUBCOMMANDS) or (
                sub[:1] == ["launch"] and "--" in argv and argv[argv.index("--") + 1:][:1] == ["train"])
            reason = next((r for r, p in SKIP if p.search(seg_text)), None) if executes else None
            if reason:  # cannot run as written: listed, and its subcommand still checked
                report.skipped.append((where, reason, seg_text))
                report.counts["skipped"] += 1
                if sub and re.fullmatch(r"[a-z-]+", sub[-1]):
                    err = cmds.help_error(sub)
                    if err:
                        report.fail(where, err)
                continue
            if runnable:
                cmds.run_line(where, seg_text, argv, overrides)
            else:
                cmds.check_line(where, seg_text, argv)


def pages(root):
    out = [p for p in ("README.md", "CHANGELOG.md", os.path.join("configs", "README.md"))
           if os.path.isfile(os.path.join(root, p))]
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "docs")):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(".md"):
                out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return out


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    root, gps, python = os.path.abspath(argv[1]), os.path.abspath(argv[2]), argv[3]
    for what, p in (("repository root", os.path.join(root, "README.md")), ("gps binary", gps)):
        if not os.path.isfile(p):
            print(f"check_docs: {what} {p} not found", file=sys.stderr)
            return 2
    t0 = time.time()
    report = Report()
    print(f"docs check: {root}\n  gps {gps}\n  python {python}")
    with tempfile.TemporaryDirectory(prefix="gps-docs-") as tmp:
        cmds = Commands(root, gps, python, tmp, report)
        rc, out, _ = run([gps, "train", "--help"], root, CHECK_TIMEOUT_S)
        if rc != 0 or "--check" not in out:
            report.fail(gps, "`gps train --help` lists no --check: this binary predates it (rebuild gps)")
        for rel in pages(root):
            report.counts["files"] += 1
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                prose, blocks = parse_markdown(f.read())
            check_links(root, rel, prose, report)
            for block in blocks:
                check_block(rel, block, cmds, report)
    c = report.counts
    print(f"links: {c['links']} relative links in {c['files']} pages ({c['anchors']} with an #anchor)")
    print(f"commands: {c['commands']} `build/gps` lines: {c['checked']} configs checked with --check, "
          f"{c['run']} run for real, {c['skipped']} skipped by pattern; "
          f"{c['help']} subcommands checked with --help")
    print(f"python blocks: {c['python']} run, {c['python_skipped']} skipped; blocks marked skip: "
          f"{c['blocks_skipped']}")
    if report.skipped:
        by_reason = {}
        for _, reason, _ in report.skipped:
            by_reason[reason] = by_reason.get(reason, 0) + 1
        print("skipped: " + "; ".join(f"{n} {r}" for r, n in sorted(by_reason.items())))
        for where, reason, text in report.skipped:
            print(f"  skip {where} [{reason}] {text}")
    for where, message in report.failures:
        print(f"FAIL {where}: {message}")
    n = len(report.failures)
    verdict = "OK" if n == 0 else f"FAILED ({n} failure{'s' if n > 1 else ''})"
    print(f"docs check: {verdict} in {time.time() - t0:.1f} s")
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
