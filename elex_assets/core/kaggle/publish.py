"""Publishing the dataset folder with the Kaggle API (kaggle 2.2.5).

``kaggle`` authenticates when imported and needs ``six``, so it is imported
only when a publication really happens, with the credentials handed over in
the environment for the duration of the call. Nested folders (one per
election) are uploaded as zip archives, which Kaggle unpacks into folders.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PublishResult:
    published: bool
    reason: str  # why not, or what was done
    action: str | None = None  # "created" | "new version"
    notes: str | None = None
    url: str | None = None


def file_fingerprints(manifests: list[dict]) -> dict[str, str]:
    """Each exported file -> when it was exported (a re-export replaces it)."""
    return {key: m["exported_at"] for m in manifests for key in m["files"]}


def version_notes(previous: dict[str, str], current: dict[str, str]) -> str:
    """Say which weekly files a new version adds and which it replaces."""

    def label(keys: list[str]) -> str:
        return ", ".join(k.removeprefix("kaggle/") for k in keys)

    added = sorted(k for k in current if k not in previous)
    replaced = sorted(k for k in current if k in previous and previous[k] != current[k])
    removed = sorted(k for k in previous if k not in current)
    parts = []
    if added:
        parts.append(f"Added {len(added)} weekly file(s): {label(added)}.")
    if replaced:
        parts.append(f"Replaced {len(replaced)} weekly file(s): {label(replaced)}.")
    if removed:
        parts.append(f"Removed {len(removed)} file(s): {label(removed)}.")
    return " ".join(parts) or "Metadata and description refreshed; no weekly file changed."


def why_not_publish(enabled: bool, username: str | None, key: str | None) -> str | None:
    if not enabled:
        return "publishing is disabled (set ELEX_KAGGLE_PUBLISH=true to publish)"
    missing = [n for n, v in (("KAGGLE_USERNAME", username), ("KAGGLE_KEY", key)) if not v]
    if missing:
        return f"{' and '.join(missing)} not set"
    return None


def _credentials(username: str, key: str) -> contextlib.AbstractContextManager[None]:
    """The Kaggle client reads its credentials from the environment: set them for the call
    (``settings.scoped_env``, the one module that touches the environment)."""
    from elex_assets.settings import scoped_env

    return scoped_env({"KAGGLE_USERNAME": username, "KAGGLE_KEY": key})


def _api(endpoint: str | None) -> Any:
    """A fresh, authenticated ``KaggleApi``; ``endpoint`` redirects it (a fake in tests)."""
    from kaggle.api.kaggle_api_extended import KaggleApi

    class _Api(KaggleApi):  # type: ignore[misc, valid-type]
        def build_kaggle_client(self) -> Any:
            client = super().build_kaggle_client()
            if endpoint:
                client._http_client._endpoint = endpoint.rstrip("/")
            return client

    api = _Api()
    api.authenticate()
    return api


def publish(
    folder: Path,
    *,
    dataset_id: str,
    username: str,
    key: str,
    notes: str,
    public: bool = True,
    endpoint: str | None = None,
) -> PublishResult:
    """Create the dataset if Kaggle does not know it, else push a new version."""
    from requests.exceptions import HTTPError

    if not (folder / "dataset-metadata.json").is_file():
        raise FileNotFoundError(f"{folder}: no dataset-metadata.json to publish")
    with _credentials(username, key):
        api = _api(endpoint)
        try:
            api.dataset_status(dataset_id)
            exists = True
        except HTTPError as exc:
            if exc.response is None or exc.response.status_code != 404:
                raise
            exists = False
        if exists:
            response = api.dataset_create_version(
                str(folder), version_notes=notes, quiet=True, dir_mode="zip"
            )
            action = "new version"
        else:
            response = api.dataset_create_new(
                str(folder), public=public, quiet=True, dir_mode="zip"
            )
            action = "created"
    error = getattr(response, "error", None)
    if error:
        raise RuntimeError(f"Kaggle refused the {action} of {dataset_id}: {error}")
    # Creating a version does not carry the cover image nor the update frequency: only the
    # metadata update does (it uploads dataset-cover-image.png, named by "image").
    with _credentials(username, key):
        _api(endpoint).dataset_metadata_update(dataset_id, str(folder))
    return PublishResult(
        True, f"{action} {dataset_id}", action, notes, getattr(response, "url", None) or None
    )


def load_published(raw: bytes | None) -> dict[str, str]:
    return json.loads(raw) if raw else {}
