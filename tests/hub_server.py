"""A Hugging Face Hub on loopback: repos from local folders, for `sitter models fetch`.

Serves what ``huggingface_hub`` asks for when ``HF_ENDPOINT`` points here: the
revision info (``/api/models/{repo}/revision/{rev}``), the recursive tree
(``/api/models/{repo}/tree/{rev}``) and the files (``HEAD``/``GET
/{repo}/resolve/{rev}/{path}``, with ``Range`` for resumed downloads). Every GET
of a file is counted, so a test can tell what was downloaded.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


class Repo:
    def __init__(self, repo_id: str, folder: Path) -> None:
        self.id = repo_id
        self.folder = folder
        self.files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        digest = hashlib.sha1(repo_id.encode())
        for f in self.files:
            digest.update(f.encode() + (folder / f).read_bytes())
        self.sha = digest.hexdigest()

    def oid(self, path: str) -> str:
        data = (self.folder / path).read_bytes()
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = {k: Repo(k, v) for k, v in repos.items()}
        self.downloads: Counter[str] = Counter()
        self.ranges: dict[str, int] = {}  # file -> the byte a resumed download started at
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub.answer(self, body=False)

            def do_GET(self) -> None:
                hub.answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Hub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _repo(self, parts: list[str]) -> tuple[Repo | None, list[str]]:
        for n in (2, 1):
            repo = self.repos.get("/".join(parts[:n]))
            if repo is not None:
                return repo, parts[n:]
        return None, parts

    def answer(self, h: BaseHTTPRequestHandler, body: bool) -> None:
        path = unquote(urlparse(h.path).path).strip("/")
        parts = path.split("/")
        if parts[:2] == ["api", "models"]:
            repo, rest = self._repo(parts[2:])
            if repo is None:
                return self._send(h, 404, b'{"error": "Repository not found"}', body)
            if rest[:1] == ["revision"]:
                info = {
                    "id": repo.id,
                    "modelId": repo.id,
                    "sha": repo.sha,
                    "private": False,
                    "siblings": [{"rfilename": f} for f in repo.files],
                }
                return self._send(h, 200, json.dumps(info).encode(), body)
            if rest[:1] == ["tree"]:
                tree = [
                    {
                        "type": "file",
                        "path": f,
                        "size": (repo.folder / f).stat().st_size,
                        "oid": repo.oid(f),
                    }
                    for f in repo.files
                ]
                return self._send(h, 200, json.dumps(tree).encode(), body)
            return self._send(h, 404, b"{}", body)
        repo, rest = self._repo(parts)
        if repo is None or rest[:1] != ["resolve"] or len(rest) < 3:
            return self._send(h, 404, b'{"error": "not found"}', body)
        name = "/".join(rest[2:])
        if name not in repo.files:
            h.send_response(404)
            h.send_header("X-Error-Code", "EntryNotFound")
            h.send_header("X-Repo-Commit", repo.sha)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return None
        data = (repo.folder / name).read_bytes()
        start = 0
        ranged = h.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start = int(ranged[6:].split("-")[0] or 0)
        if body:
            self.downloads[f"{repo.id}/{name}"] += 1
            if start:
                self.ranges[f"{repo.id}/{name}"] = start
        h.send_response(206 if start else 200)
        h.send_header("X-Repo-Commit", repo.sha)
        h.send_header("ETag", f'"{repo.oid(name)}"')
        h.send_header("Content-Length", str(len(data) - start))
        if start:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.end_headers()
        if body:
            h.wfile.write(data[start:])
        return None

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, data: bytes, body: bool) -> None:
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if body:
            h.wfile.write(data)
