"""Saving and loading the state as JSON (``--state FILE``), atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import types
import typing
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from paper_broker.clock import SimClock
from paper_broker.state import BrokerState

FORMAT_VERSION = 1


def encode(value: Any) -> Any:
    """Turn dataclasses, Decimals and datetimes into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("persist", True)
        }
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(kind: Any, value: Any) -> Any:
    """Rebuild a value of type ``kind`` (as annotated on a dataclass) from JSON."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return decode(next(a for a in typing.get_args(kind) if a is not type(None)), value)
    if origin is list:
        return [decode(typing.get_args(kind)[0], item) for item in value]
    if origin is dict:
        item_kind = typing.get_args(kind)[1]
        return {key: decode(item_kind, item) for key, item in value.items()}
    if kind is Decimal:
        return Decimal(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                f.name: decode(hints[f.name], value[f.name])
                for f in dataclasses.fields(kind)
                if f.name in value and f.metadata.get("persist", True)
            }
        )
    return value


def save_state(path: Path, state: BrokerState) -> None:
    """Write the state to ``path`` via a temporary file and ``os.replace``."""
    document = {"version": FORMAT_VERSION, "clock": state.clock.to_json(), **encode(state)}
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_state(path: Path) -> BrokerState:
    """Read a state file written by ``save_state``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported state format {document.get('version')!r}")
    state: BrokerState = decode(BrokerState, document)
    state.clock = SimClock.from_json(document["clock"])
    return state
