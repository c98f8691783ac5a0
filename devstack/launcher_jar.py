"""Build a launcher jar for the Cloud SDK's Firestore emulator (which has no Main-Class).

firebase-tools runs `java -jar $FIRESTORE_EMULATOR_BINARY_PATH`; a jar is a zip, and this
one holds only a manifest naming the main class and the real jar on its class path.
Usage: launcher_jar.py OUT.jar SDK_FIRESTORE_JAR
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"


def manifest_line(line: str) -> bytes:
    """One manifest header, wrapped at 72 bytes with continuation lines as the spec asks."""
    raw = line.encode()
    parts = [raw[:72]]
    raw = raw[72:]
    while raw:
        parts.append(b" " + raw[:71])
        raw = raw[71:]
    return b"\r\n".join(parts) + b"\r\n"


def build(out: Path, target: Path) -> None:
    """Write the launcher jar `out` that runs the emulator in `target`."""
    if not target.is_file():
        raise SystemExit(f"Firestore emulator jar not found: {target}")
    manifest = (
        manifest_line("Manifest-Version: 1.0")
        + manifest_line(f"Main-Class: {MAIN_CLASS}")
        + manifest_line(f"Class-Path: {target.resolve().as_uri()}")
        + b"\r\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
