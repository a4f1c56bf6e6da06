"""One file over HTTP: streamed into `NAME.part`, resumed with a Range request after a broken transfer, retried
with backoff on connection errors and 5xx answers, checked against its md5, then renamed into place.

A `.part` file that survives an interrupted run is resumed by the next one; a file that fails its md5 is
deleted. The final name only ever holds a complete, checked file.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .registry import ENDPOINT_VARIABLE

CHUNK = 1 << 20
TIMEOUT = 60.0  # seconds without data before a connection counts as broken


class DownloadError(OSError):
    """A file that could not be downloaded; the message names its URL."""


class ChecksumError(DownloadError):
    """A downloaded file whose md5 differs from the published one (the file is deleted)."""


@dataclass(frozen=True)
class Retries:
    attempts: int = 5  # connections tried per file before giving up
    backoff: float = 0.5  # seconds before the second attempt, doubled after each failure
    longest: float = 8.0  # the longest wait between attempts


RETRIES = Retries()


def download_file(
    url: str, destination: Path, md5: str | None, retries: Retries = RETRIES, progress: bool = True
) -> str:
    """Download `url` to `destination` and return the file's sha256.

    Raises:
        ChecksumError: the md5 differs from `md5`.
        DownloadError: a 4xx answer (at once), or connection errors and 5xx answers on every attempt, or no
            room on the disk.
    """
    part = destination.with_name(destination.name + ".part")
    failure: Exception | None = None
    for attempt in range(retries.attempts):
        if attempt:
            time.sleep(min(retries.backoff * 2 ** (attempt - 1), retries.longest))
        try:
            _transfer(url, part, progress)
            break
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise DownloadError(_refused(url, error)) from None
            failure = error
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as error:
            failure = error
    else:
        raise DownloadError(f"could not download {url} after {retries.attempts} attempts: {failure}")
    sha256 = _check(url, part, md5)
    os.replace(part, destination)
    return sha256


def _transfer(url: str, part: Path, progress: bool) -> None:
    """Fetch what `part` lacks (all of it when the server ignores the Range header)."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as error:
        if error.code != 416 or not have:  # 416: nothing left from `have` on; start over
            raise
        part.unlink()
        raise ConnectionError(f"{url} refused to resume at byte {have}") from None
    with response:
        if response.status != 206:
            have = 0  # a full answer: the server does not resume
        length = response.headers.get("Content-Length")
        remaining = int(length) if length is not None else None
        if remaining is not None:
            _check_room(part, url, remaining)
        total = None if remaining is None else have + remaining
        show = progress and sys.stderr.isatty()
        with (
            open(part, "ab" if have else "wb") as file,
            tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=part.name[:-5], disable=not show) as bar,
        ):
            while chunk := response.read(CHUNK):
                _write(file, chunk, part, url)
                bar.update(len(chunk))
    if total is not None and part.stat().st_size != total:
        raise ConnectionError(f"{url}: the connection closed at byte {part.stat().st_size} of {total}")


def _write(file, chunk: bytes, part: Path, url: str) -> None:
    try:
        file.write(chunk)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DownloadError(f"no space left on the device of {part.parent} while downloading {url}") from None
        raise


def _check_room(part: Path, url: str, needed: int) -> None:
    free = shutil.disk_usage(part.parent).free
    if needed > free:
        raise DownloadError(
            f"not enough disk space for {url}: {needed:,} bytes to write, {free:,} free in {part.parent}"
        )


def _check(url: str, part: Path, md5: str | None) -> str:
    """The sha256 of the finished `part`, after its md5 matches `md5` (when one is published)."""
    digests = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(part, "rb") as file:
        while chunk := file.read(CHUNK):
            for digest in digests:
                digest.update(chunk)
    if md5 is not None and digests[0].hexdigest() != md5.lower():
        part.unlink()
        raise ChecksumError(f"{url} arrived with md5 {digests[0].hexdigest()}, not the published {md5}; deleted it")
    return digests[1].hexdigest()


def _refused(url: str, error: urllib.error.HTTPError) -> str:
    endpoint = os.environ.get(ENDPOINT_VARIABLE)
    where = (
        f"the mirror set by {ENDPOINT_VARIABLE}={endpoint} lacks it"
        if endpoint
        else f"set {ENDPOINT_VARIABLE} to download from a mirror"
    )
    return f"{url} answered {error.code} {error.reason}: {where}"
