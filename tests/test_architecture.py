"""The shape of the tree: layers import downwards only, no cycles, no private names across
modules, the flat 0.1 paths still import, and the modules that need no torch import without it.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"tvhighlights": ROOT / "tvhighlights", "tvhighlights.builders": ROOT / "builders",
            "tvhighlights.baselines": ROOT / "baselines"}  # fmt: skip


def _modules() -> dict[str, Path]:
    out = {}
    for prefix, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([prefix, *parts])
            if prefix == "tvhighlights" and parts[:1] in (["builders"], ["baselines"]):
                continue  # not part of the tree
            out[name] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _top_level_imports(module: str) -> list[tuple[str, list[str]]]:
    """``(imported module, names)`` of the module-level imports (not those inside functions,
    nor ``TYPE_CHECKING`` blocks): what runs when the module is imported."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            found.append((_resolve(module, node), [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def _all_imports(module: str) -> list[tuple[str, list[str]]]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.append((_resolve(module, node), [a.name for a in node.names]))
    return found


def _owner(target: str) -> str | None:
    """The module of ours that ``target`` (a module, or a module's attribute) is."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def test_no_module_imports_private_names_of_another():
    bad = []
    for module in MODULES:
        for target, names in _all_imports(module):
            owner = _owner(target)
            if owner is None or owner == module:
                continue
            same_package = owner.rpartition(".")[0] == module.rpartition(".")[0] or (
                owner.startswith(module.rpartition(".")[0] + ".")
            )
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    bad.append(f"{module} imports {name} from {owner}")
            # a private module (``_container``) serves its own package only
            private = [p for p in owner.split(".") if p.startswith("_") and p != "__init__"]
            if private and not same_package:
                bad.append(f"{module} imports the private module {owner}")
    assert not bad, "\n".join(bad)


def test_no_import_cycle_at_import_time():
    graph = {m: set() for m in MODULES}
    for module in MODULES:
        for target, names in _top_level_imports(module):
            owner = _owner(target)
            if owner and owner != module:
                graph[module].add(owner)
            for name in names:  # ``from . import x`` imports the submodule x
                sub = _owner(f"{target}.{name}")
                if sub and sub != module and sub == f"{target}.{name}":
                    graph[module].add(sub)
    # a package importing its own submodules is not a cycle; look for the rest
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if node.startswith(nxt + ".") or nxt.startswith(node + "."):
                continue  # parent package / own submodule
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


LAYERS = [
    ("errors", "clips", "fileio", "figures", "distributed", "engines", "samples", "_compat"),
    ("video",),
    ("data", "build", "features", "llm"),
    ("models",),
    ("training", "evaluation"),
    ("inference", "baselines"),
    ("builders", "app", "annotate"),
    ("cli",),
]
"""From the bottom up: a module may import its own layer's and lower layers' modules only
(``tvhighlights`` itself, the package, re-exports from every layer lazily)."""


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for i, names in enumerate(LAYERS):
        if parts[1] in names:
            return i
    return None


ALLOWED_UPWARDS = {("tvhighlights.build", "tvhighlights.builders")}
"""``tvhighlights.build.build_dataset`` of 0.1: a lazy re-export of the builder's."""


def test_layers_import_downwards():
    bad = []
    for module in MODULES:
        mine = _layer(module)
        if mine is None:
            continue
        for target, _ in _all_imports(module):
            owner = _owner(target)
            theirs = _layer(owner) if owner else None
            if theirs is not None and theirs > mine and (module, owner) not in ALLOWED_UPWARDS:
                bad.append(f"{module} (layer {mine}) imports {owner} (layer {theirs})")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("tvhighlights.metrics", "clip_auc_ap"),
        ("tvhighlights.submission", "evaluate_submission"),
        ("tvhighlights.report", "to_markdown"),
        ("tvhighlights.dataset", "read_split"),
        ("tvhighlights.dataset", "write_dataset"),
        ("tvhighlights.fingerprint", "fingerprint_video"),
        ("tvhighlights.fingerprint", "hash_frames"),
        ("tvhighlights.matching", "align_derivative"),
        ("tvhighlights.matching", "build_index"),
        ("tvhighlights.shots", "detect_shots"),
        ("tvhighlights.shots", "transnet_model"),
        ("tvhighlights.simulate", "simulate_derivatives"),
        ("tvhighlights.reel", "write_reel"),
        ("tvhighlights.voting", "LabelRule"),
        ("tvhighlights.manifest", "read_sources"),
        ("tvhighlights.topic_filter", "get_title_filter"),
        ("tvhighlights.plots", "plot_highlight_scores"),
        ("tvhighlights.features.dataset_config", "add_features_config"),
        ("tvhighlights.build", "build_dataset"),
    ],
)
def test_old_import_paths_still_work(old, name):
    module = importlib.import_module(old)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert callable(getattr(module, name)) or getattr(module, name) is not None


def test_old_path_warns_and_names_the_new_one():
    import tvhighlights.metrics as old

    with pytest.warns(DeprecationWarning, match="tvhighlights.evaluation.metrics"):
        fn = old.cohen_kappa
    from tvhighlights.evaluation.metrics import cohen_kappa

    assert fn is cohen_kappa


def test_the_model_still_imports_from_the_top():
    code = "from tvhighlights import LTVHDModel, LTVHDConfig; print(LTVHDModel.__name__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "LTVHDModel", res.stderr
