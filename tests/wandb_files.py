"""W&B's files, for the tests: an offline run file (run-<id>.wandb) read as W&B's own records,
and a workspace spec (dashboard.json) searched by key.

The file is a LevelDB-style log: a 7-byte header (":W&B", a 2-byte magic number, a version byte),
then 32 KiB blocks of chunks, each with a 7-byte header (CRC-32, length, type: full, first,
middle or last piece of a record) and its bytes; a record is a protobuf `Record` of wandb's."""

import struct
from collections.abc import Iterator
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK = 32 * 1024
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[wandb_internal_pb2.Record]:
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    pos, pieces = HEADER, b""
    while pos + HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < HEADER:  # the rest of a block too small for a header is padding
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        if length == 0 and kind == 0:  # zero padding at the end of a block
            pos += left_in_block
            continue
        chunk = data[pos + HEADER : pos + HEADER + length]
        pos += HEADER + length
        pieces = chunk if kind in (FULL, FIRST) else pieces + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pieces)
            yield record
            pieces = b""


def run_file(run_dir: Path) -> Path:
    (found,) = Path(run_dir).glob("run-*.wandb")
    return found


def key_of(item: object) -> str:
    return item.key or "/".join(item.nested_key)


def history_by_epoch(found: list[wandb_internal_pb2.Record]) -> dict[int, dict[str, str]]:
    """The logged rows of each epoch, merged (Lightning logs an epoch's metrics in several rows)."""
    epochs: dict[int, dict[str, str]] = {}
    for record in found:
        if record.HasField("history"):
            row = {key_of(i): i.value_json for i in record.history.item}
            if "epoch" in row:
                epochs.setdefault(int(float(row["epoch"])), {}).update(row)
    return epochs


def collect(spec: object, key: str) -> list:
    """Every value of `key` anywhere in a W&B workspace spec (dashboard.json)."""
    found = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == key:
                found.append(v)
            found += collect(v, key)
    elif isinstance(spec, list):
        for v in spec:
            found += collect(v, key)
    return found
