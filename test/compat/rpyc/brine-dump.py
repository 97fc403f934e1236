# Dumps tagged JSON values with rpyc's own brine and checks it loads ours back: the codec's cross-check.
# stdin: {"values": [tagged...], "ours": [hex...]}; stdout: {"dumps": [hex...], "loads_equal": [bool...]}.

import json
import sys

from rpyc.core import brine


def untag(v):
    if v is None or isinstance(v, bool):
        return v
    kind, x = v["t"], v["v"]
    if kind == "int":
        return int(x)
    if kind == "bytes":
        return bytes.fromhex(x)
    if kind == "str":
        return x
    return tuple(untag(i) for i in x)


req = json.load(sys.stdin)
values = [untag(v) for v in req["values"]]
out = {
    "dumps": [brine.dump(v).hex() for v in values],
    "loads_equal": [brine.load(bytes.fromhex(h)) == v for h, v in zip(req["ours"], values)],
}
json.dump(out, sys.stdout)
