"""Modules whose idea needs no torch import without it."""

import subprocess
import sys

CORE = [
    "tvhighlights",
    "tvhighlights.clips",
    "tvhighlights.fileio",
    "tvhighlights.samples",
    "tvhighlights.video",
    "tvhighlights.video.writer",
    "tvhighlights.video.cut",
    "tvhighlights.build",
    "tvhighlights.build.fingerprint",
    "tvhighlights.build.index",
    "tvhighlights.build.align",
    "tvhighlights.build.voting",
    "tvhighlights.build.shots",
    "tvhighlights.build.simulate",
    "tvhighlights.data",
    "tvhighlights.evaluation",
    "tvhighlights.evaluation.metrics",
    "tvhighlights.evaluation.submission",
    "tvhighlights.evaluation.report",
    "tvhighlights.inference.spans",
    "tvhighlights.cli",
    "tvhighlights.baselines",
    "tvhighlights.features",
    "tvhighlights.features.store",
    "tvhighlights.features.extract",
    "tvhighlights.features.handcrafted",
    "tvhighlights.annotate",
    "tvhighlights.annotate.store",
    "tvhighlights.annotate.auth",
    "tvhighlights.annotate.videos",
    "tvhighlights.annotate.session",
    "tvhighlights.annotate.thumbnails",
    "tvhighlights.metrics",  # an old path: forwards without importing anything heavy
]


def test_core_modules_import_without_torch():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # any 'import torch' now raises ImportError\n"
        f"import importlib\nfor m in {CORE!r}:\n    importlib.import_module(m)\n"
        "assert 'transformers' not in sys.modules\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_top_level_import_is_light():
    code = (
        "import sys, tvhighlights\n"
        "print(sorted(m for m in ('av', 'sklearn', 'torch') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
