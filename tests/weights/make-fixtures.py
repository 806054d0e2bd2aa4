#!/usr/bin/python3
"""Regenerates the .pth fixtures in fixtures/ (needs torch; Debian's
python3-torch works).  Run it from anywhere: /usr/bin/python3 make-fixtures.py

Writes, each with a JSON file of the values torch reads back:
  zip.pth         torch.save (zip format) of a small state dict with
                  non-contiguous views, storage offsets, shared storages,
                  float64/float16/bfloat16/int64 tensors, a Parameter and
                  the `_metadata` attribute of a module's state dict;
  legacy.pth      the same with _use_new_zipfile_serialization=False;
  legacy-old.pth  a legacy file in the style of the LPIPS v0.0 files
                  (_rebuild_tensor, Python 2 strings, storages on "cuda:0",
                  OrderedDict built from [key, value] lists), plus an old
                  storage view; written by pthwriter.py and checked here
                  against torch.load;
  malicious-os-system.pth  a legacy-format pickle whose object is
                  os.system("echo ..."): must be refused, never run.
"""

import collections
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
sys.path.insert(0, HERE)

import pthwriter  # noqa: E402


def expected(obj):
    tensors = collections.OrderedDict()
    for name, t in obj.items():
        entry = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
        if t.is_floating_point():
            entry["values"] = t.detach().float().contiguous().flatten().tolist()
        else:
            entry["values"] = t.detach().contiguous().flatten().tolist()
        tensors[name] = entry
    metadata = getattr(obj, "_metadata", None)
    return {"tensors": tensors,
            "metadata": None if metadata is None else {k: dict(v) for k, v in metadata.items()}}


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(expected(obj), f, allow_nan=True)
        f.write("\n")


def state_dict():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU(),
                                torch.nn.Conv2d(2, 2, 1))
    sd = model.state_dict()  # an OrderedDict with `_metadata`
    base = torch.randn(6, 5)
    sd["views.base"] = base
    sd["views.transposed"] = base.t()              # strides (1, 5)
    sd["views.sliced"] = base[1:, ::2]             # offset 5, strides (5, 2)
    sd["views.row"] = base[4]                      # offset 20
    sd["views.column"] = base[:, 3]                # offset 3, stride 5
    sd["views.expanded"] = torch.randn(3, 1).expand(3, 4)  # stride 0
    sd["views.permuted"] = torch.randn(2, 3, 4).permute(2, 0, 1)
    sd["dtype.float64"] = torch.tensor([1.0 / 3.0, 1e-40, 3.4e38, 1e300, -2.0 ** -130,
                                        0.1, 16777217.0], dtype=torch.float64)
    sd["dtype.float16"] = torch.tensor([0.0, -0.0, 1.0, 65504.0, 6e-8, -2.5, float("inf"),
                                        0.333], dtype=torch.float16)
    sd["dtype.bfloat16"] = torch.tensor([1.0, -3.140625, 1e30, 2.0 ** -120],
                                        dtype=torch.bfloat16)
    sd["dtype.float16_view"] = torch.arange(12, dtype=torch.float16).reshape(3, 4)[:, 1::2]
    sd["dtype.int64"] = torch.tensor(7)
    sd["shape.scalar"] = torch.tensor(3.5)
    sd["shape.empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2))
    return sd


def old_style_entries():
    P = pthwriter
    root = P.Storage([float(i) / 4 - 3 for i in range(30)], key="140230000001")
    other = P.Storage([float(i) * 0.5 for i in range(16)], key="140230000002")
    lin = P.Storage([0.125 * i for i in range(8)], key="140230000003")
    entries = [
        ("lin0.model.1.weight", P.Tensor(lin, (1, 8, 1, 1), (8, 1, 1, 1))),
        ("matrix", P.Tensor(root, (5, 6))),
        ("transposed", P.Tensor(root, (6, 5), (1, 6))),
        ("tail", P.Tensor(root, (2, 2), (6, 1), offset=17)),
        ("view", P.Tensor(other, (2, 3), (3, 1), offset=2)),
    ]
    views = {id(other): ("140230000009", 4, 10)}
    return entries, views


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = state_dict()
    path = os.path.join(OUT, "zip.pth")
    torch.save(sd, path)
    write_json("zip.json", torch.load(path))
    path = os.path.join(OUT, "legacy.pth")
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    write_json("legacy.json", torch.load(path))

    entries, views = old_style_entries()
    path = os.path.join(OUT, "legacy-old.pth")
    pthwriter.write_legacy(path, entries, old_style=True, location="cuda:0", pairs_list=True,
                           views=views)
    loaded = torch.load(path, map_location="cpu")
    assert list(loaded) == [name for name, _ in entries], list(loaded)
    write_json("legacy-old.json", loaded)

    p = pthwriter.Pickle()
    p.glob("os", "system").mark().str("echo the restricted unpickler failed").tuple().reduce()
    with open(os.path.join(OUT, "malicious-os-system.pth"), "wb") as f:
        f.write(pthwriter.legacy_bytes([], pickle_bytes=p.stop()))

    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("fixtures written to %s (%d bytes)" % (OUT, total))


if __name__ == "__main__":
    main()
