"""Runs the checks that parse a document or a picture in a sandboxed child process
(services/common/sandbox.py): no network, no secrets, limits on time and memory. The API's own
process only waits for the verdict, so a bomb, a parser loop or a parser crash costs the child,
never the API's event loop, its memory, or /readyz.

    python -m services.api.uploads.inspector KIND PATH     (KIND: zip, ole, pdf, image)

prints one JSON object: {"media_type": ..., "probe": {...}} or {"refusal": {"code", "params"}}.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services.api.uploads import limits
from services.api.uploads.errors import REFUSALS, TooComplex, UploadError
from services.common import sandbox

KINDS = ("zip", "ole", "pdf", "image")


def inspect(kind: str, path: Path) -> dict[str, Any]:
    """{"media_type", "probe"} of a file that passes; raises the refusal's UploadError."""
    argv, env = sandbox.python_module("services.api.uploads.inspector", kind, str(path))
    try:
        result = sandbox.run(argv, scratch=None, env=env, text=True,
                             limits=sandbox.Limits(time_s=limits.INSPECT_TIME_S, memory_bytes=limits.INSPECT_MEMORY,
                                                   file_bytes=limits.ZIP_MAX_NESTED))
    except sandbox.SandboxTimeout:
        raise TooComplex(reason=f"checking the file took more than {limits.INSPECT_TIME_S} s"
                                " / 文件检查超时（文件过于复杂）") from None
    verdict = _verdict(result.stdout) if result.returncode == 0 else None
    if verdict is None:
        # Killed by its memory or CPU limit, or a parser crashed: the file is what did that.
        raise TooComplex(reason="checking the file needed more memory or time than a lesson file may"
                                " / 文件检查所需资源超出限制（文件过于复杂）")
    if "refusal" in verdict:
        refusal = verdict["refusal"]
        raise REFUSALS[refusal["code"]](**refusal["params"])
    return verdict


def _verdict(stdout: str) -> dict[str, Any] | None:
    lines = stdout.strip().splitlines()
    try:
        verdict = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    if not isinstance(verdict, dict) or ("refusal" in verdict and verdict["refusal"].get("code") not in REFUSALS):
        return None
    return verdict


def run_checks(kind: str, path: Path) -> dict[str, Any]:
    """In the child: the checks themselves."""
    from services.api.uploads import checks, checks_pdf

    if kind == "zip":
        return {"media_type": checks.office_zip_type(path), "probe": {}}
    if kind == "ole":
        with path.open("rb") as file:
            head = file.read(64 * 1024)
        return {"media_type": checks.ole_office_type(path, head), "probe": {}}
    if kind == "pdf":
        return {"media_type": "application/pdf", "probe": checks_pdf.check_pdf(path)}
    if kind == "image":
        return {"media_type": None, "probe": checks.check_image(path)}
    raise SystemExit(f"unknown kind {kind}")


def main(argv: list[str]) -> int:
    kind, path = argv[0], Path(argv[1])
    try:
        verdict = run_checks(kind, path)
    except UploadError as refusal:
        verdict = {"refusal": {"code": refusal.code, "params": refusal.params}}
    print(json.dumps(verdict, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
