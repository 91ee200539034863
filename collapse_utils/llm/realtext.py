"""Real English text that every machine has: a wikitext-shaped corpus from the Python standard library's docstrings.

The paper fine-tunes on wikitext-2, which needs the Hugging Face hub. To run the
chapter's pipeline on *real* text offline, :func:`write_folder` writes a folder
in the wikitext layout (``train.txt``, ``valid.txt``, ``test.txt``, and a
disjoint ``pretrain.txt``) from the documentation that the authors of Python's
standard library wrote: the docstrings of its modules, classes and functions,
read from the source files with :mod:`ast` (nothing is imported or run). Every
module is one article (`` = module = ``), every docstring paragraph one line;
lines that look like code (``>>>`` examples, indented blocks, tables) are left
out. Modules are assigned to the splits by a stable hash of their name, so the
splits share no article; the text depends on the Python version (the folder's
``source.txt`` says which).

It is technical prose, not encyclopedia articles, and there is less of it than
wikitext-2 (about 2.4M tokens of training text): the chapter states both where
it uses it. A local folder of the real wikitext-2 (the raw files) takes its
place with ``--data`` or ``data=`` unchanged.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import sys
import sysconfig
import textwrap
from collections import deque
from pathlib import Path

from .. import validate

SPLITS = ("train", "valid", "test", "pretrain")
#: Folders of the standard library that hold no documentation prose worth reading (tests, tools, vendored code).
SKIP = ("test", "tests", "idlelib", "lib2to3", "ensurepip", "turtledemo", "site-packages", "__pycache__", "pydoc_data")


def _paragraphs(doc: str) -> list[str]:
    """The prose paragraphs of a docstring, each as one line (code, tables and short fragments left out)."""
    out = []
    for block in re.split(r"\n\s*\n", textwrap.dedent(doc)):
        lines = block.splitlines()
        if not lines or any(line.startswith((" ", "\t", ">>>", "...", "|", "+-", "==", "--", ":")) for line in lines):
            continue
        text = " ".join(line.strip() for line in lines)
        words = text.split()
        if len(words) < 8 or not re.search(r"[a-z]", text) or text.count("`") > len(words) // 3:
            continue
        out.append(" ".join(words))
    return out


def module_files(root: str | Path | None = None) -> dict[str, Path]:
    """``{module name: source file}`` of the standard library at ``root`` (default: this Python's), tests left out."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    found = []
    for folder, subfolders, files in os.walk(root):  # skipped folders are not entered (site-packages is large)
        subfolders[:] = [d for d in subfolders if not _skipped(d)]
        found += [Path(folder, f) for f in files if f.endswith(".py") and (f == "__init__.py" or not _skipped(f))]
    out = {}
    for path in sorted(found):
        rel = path.relative_to(root)
        out[".".join(rel.with_suffix("").parts).removesuffix(".__init__")] = path
    return out


def _skipped(name: str) -> bool:
    """A folder or file of the standard library left out: :data:`SKIP`, or private (a leading underscore)."""
    return name in SKIP or name.startswith("_")


def article(path: Path) -> list[str]:
    """The prose paragraphs of one module's docstrings (module, public classes and functions), in order, once each."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError):
        return []
    docs = [ast.get_docstring(tree)] + [
        ast.get_docstring(node)
        for node in _statements(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    ]
    return list(dict.fromkeys(p for d in docs if d for p in _paragraphs(d)))


#: The nodes that hold statements: statements themselves, exception handlers and the cases of a ``match``.
_HOLDERS = (ast.stmt, ast.excepthandler, ast.match_case)


def _statements(tree: ast.AST) -> list[ast.AST]:
    """The statements of ``tree`` (and the nodes between them), in :func:`ast.walk`'s breadth-first order.

    Only statements hold definitions, and an expression never holds a
    statement, so leaving expressions out keeps every definition in the order
    :func:`ast.walk` gives it, at a fraction of the nodes.
    """
    out, todo = [], deque([tree])
    while todo:
        node = todo.popleft()
        out.append(node)
        todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, _HOLDERS))
    return out


def module_articles(root: str | Path | None = None) -> dict[str, list[str]]:
    """``{module: paragraphs}`` for every module of the standard library at ``root`` that has prose."""
    return {name: paras for name, path in module_files(root).items() if (paras := article(path))}


def _split_of(name: str, seed: int) -> int:
    """A stable pseudo-random number in [0, 100) per module name."""
    return int(hashlib.sha256(f"{seed}:{name}".encode()).hexdigest(), 16) % 100


def write_folder(
    folder: str | Path, words: tuple[int, int, int] = (60_000, 6_000, 6_000), pretrain_words: int = 150_000,
    seed: int = 0,
) -> Path:
    """Write ``train.txt``, ``valid.txt``, ``test.txt`` and ``pretrain.txt`` (wikitext layout) into ``folder``.

    Each split gets whole modules (articles) until it holds about the given
    number of words; no module is in two splits. Raises ``ValueError`` when the
    standard library holds too little text for the sizes asked.
    """
    sizes = dict(zip(SPLITS, [*words, pretrain_words]))
    for name, n in sizes.items():
        validate.integer(f"words[{name!r}]", n, 1)
    files = module_files()
    order = sorted(files, key=lambda m: (_split_of(m, seed), m))  # a stable shuffle of the modules
    texts: dict[str, list[str]] = {s: [] for s in SPLITS}
    counts = dict.fromkeys(SPLITS, 0)
    seen: set[str] = set()
    for module in order:  # parsed in that order, only as many as the sizes need
        open_splits = [s for s in SPLITS if counts[s] < sizes[s]]
        if not open_splits:
            break
        paragraphs = [p for p in article(files[module]) if p not in seen]
        if not paragraphs:
            continue
        seen.update(paragraphs)
        split = open_splits[0]
        lines = [f" = {module} = ", ""]
        for para in paragraphs:
            lines += [f" {para} ", ""]
        texts[split] += lines
        counts[split] += sum(len(p.split()) for p in paragraphs)
    short = [s for s in SPLITS if counts[s] < sizes[s]]
    if short:
        raise ValueError(
            f"the standard library's docstrings hold too few words for {', '.join(short)} "
            f"({', '.join(f'{s}: {counts[s]:,} of {sizes[s]:,}' for s in SPLITS)})"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split, lines in texts.items():
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "source.txt").write_text(
        f"docstrings of the Python {sys.version.split()[0]} standard library (collapse_utils.llm.realtext)\n"
    )
    return folder
