"""No function of the package runs over 100 lines (docstring included), outside the
numba kernel functions and the synthetic-clip scripts: a longer one is split into named
steps."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "itbcoach"
MAX_LINES = 100


def _numba(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether ``node`` is compiled by numba (``@numba.njit(...)``, ``@njit``...)."""
    return any("jit" in ast.unparse(d) or "vectorize" in ast.unparse(d)
               for d in node.decorator_list)


def long_functions(root: Path = PACKAGE, limit: int = MAX_LINES) -> list[str]:
    """``"path:line name (N lines)"`` of every function over ``limit`` lines."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] == "synth":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or _numba(node):
                continue
            lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            if lines > limit:
                out.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    return out


def test_no_function_over_100_lines() -> None:
    assert long_functions() == []


def test_the_check_sees_long_functions_and_skips_numba_and_synth(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(101))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n")
    (tmp_path / "kern.py").write_text(f"import numba\n@numba.njit(cache=True)\n"
                                      f"def kern():\n{body}\n")
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "script.py").write_text(f"def script():\n{body}\n")
    assert long_functions(tmp_path) == ["long.py:1 long (102 lines)"]
