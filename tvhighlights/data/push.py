"""Publishing a dataset folder to the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidArgumentError
from .folder import CARD_NAME

__all__ = ["push_dataset"]


def push_dataset(
    folder: str | Path,
    repo_id: str,
    *,
    dry_run: bool = False,
    private: bool = False,
    token: str | None = None,
) -> list[tuple[str, int]]:
    """Publish a dataset folder to the Hub; returns ``(path, bytes)`` of each file.

    With ``dry_run`` nothing is sent: the list says what would be uploaded. Hidden files
    (temporary files of an interrupted write) are never uploaded.
    """
    folder = Path(folder)
    if not (folder / CARD_NAME).is_file():
        raise InvalidArgumentError(f"{folder}: not a dataset folder (no {CARD_NAME} dataset card)")
    files = sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if dry_run:
        return files
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(folder), repo_id=repo_id, repo_type="dataset", ignore_patterns=[".*"]
    )
    return files
