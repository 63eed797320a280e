"""The baselines' tests train tiny networks: one torch thread, since intra-op threads gain
nothing there and only spin when other processes share the machine's two cores."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # the torch-free rows' tests still run
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
