"""How every page of the project is served: on this machine, with nothing going out.

No share tunnel, no analytics, no SSR node server, no footer links; the page's own script and
style from ``assets/``; gradio's errors shown in the page. The demo and the annotation page
both launch through :func:`launch_page`, so these settings live in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

__all__ = ["asset", "launch_page"]


def asset(name: str) -> str:
    """The text of ``assets/<name>`` (a page's script or style)."""
    return resources.files("tvhighlights.app").joinpath("assets", name).read_text("utf-8")


def launch_page(
    page: Any,
    *,
    host: str | None,
    port: int | None,
    script: str,
    style: str,
    allowed_paths: Sequence[str] = (),
    block: bool = True,
    **options: Any,
) -> Any:
    """``page.launch`` with the project's settings; ``script`` and ``style`` name files in
    ``assets/``, ``options`` (``auth``, ``max_file_size``, ``blocked_paths``, ...) go to gradio."""
    page.launch(
        server_name=host,
        server_port=port,
        share=False,
        allowed_paths=list(allowed_paths),
        show_error=True,
        ssr_mode=False,
        prevent_thread_lock=not block,
        head=f"<script>{asset(script)}</script>",
        css=asset(style),
        footer_links=[],
        **options,
    )
    return page
