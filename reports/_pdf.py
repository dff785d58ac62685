"""The PDF of report.html, printed by a headless Chromium (Debian's `chromium` package).

Page headers and footers (run id, page numbers) come from the report's own `@page` margin boxes, so Chromium's
default header (with the file's path) is switched off.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

PDF_FILE = "report.pdf"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Flags that keep a headless Chromium from talking to anything: the report is a local file. Chromium still
# starts some requests of its own (component updates, account checks) whatever the flags say; the host resolver
# rule makes every name unresolvable without asking DNS, so none of them leaves the machine.
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


class PdfError(RuntimeError):
    """The PDF could not be made; the message says why and what to install."""


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise PdfError("--pdf needs a headless Chromium: install Debian's package 'chromium' (apt-get install chromium)")


def write_pdf(html_path: Path, *, timeout_s: float = 120.0) -> Path:
    """Print `html_path` to `report.pdf` beside it and return the PDF's path."""
    pdf_path = html_path.with_name(PDF_FILE)
    with tempfile.TemporaryDirectory(prefix="digasec-chromium-") as profile_dir:
        command = [
            find_browser(),
            *QUIET_FLAGS,
            f"--user-data-dir={profile_dir}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium did not print the report within {timeout_s:.0f} s") from exc
    if result.returncode != 0 or not pdf_path.is_file():
        tail = "\n".join(result.stderr.splitlines()[-10:])
        raise PdfError(f"Chromium could not print {html_path} (exit {result.returncode}):\n{tail}")
    return pdf_path


def pdf_page_count(pdf_path: Path) -> int:
    """Pages of a PDF as Chromium writes it (uncompressed page objects)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf_path.read_bytes()))
