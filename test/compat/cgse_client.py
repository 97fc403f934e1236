"""A CGSE registry client in CGSE's own socket patterns (pyzmq), run against Switchboard by cgse-zmq.test.ts.

Requests go over a DEALER with identity registry-client-<uuid> as [type, json]; heartbeats over a
second DEALER with the same identity as one json frame; events arrive on a SUB subscribed to all.
Prints one JSON object with every reply and event the scenario saw.
"""

import json
import sys
import time
import uuid

import zmq

req_endpoint, hb_endpoint, sub_endpoint = sys.argv[1:4]
TIMEOUT_MS = 2000

ctx = zmq.Context.instance()
identity = f"registry-client-{uuid.uuid4()}".encode()

req = ctx.socket(zmq.DEALER)
req.setsockopt(zmq.LINGER, 0)
req.setsockopt(zmq.IDENTITY, identity)
req.connect(req_endpoint)

sub = ctx.socket(zmq.SUB)
sub.connect(sub_endpoint)
sub.setsockopt_string(zmq.SUBSCRIBE, "")

hb = ctx.socket(zmq.DEALER)
hb.setsockopt(zmq.LINGER, 0)
hb.setsockopt(zmq.IDENTITY, identity)
hb.connect(hb_endpoint)

events = []


def request(body, msg_type=b"REQ", raw=None):
    req.send_multipart([msg_type, raw if raw is not None else json.dumps(body).encode()])
    if msg_type == b"REQ_NO_REPLY":
        return None
    if not req.poll(TIMEOUT_MS):
        raise SystemExit(f"no reply to {body!r}")
    parts = req.recv_multipart()
    assert len(parts) == 2 and parts[0] == b"RESPONSE", parts
    return json.loads(parts[1])


def heartbeat(service_id):
    hb.send_string(json.dumps({"action": "renew", "service_id": service_id}))
    ready, _, _ = zmq.select([hb], [], [], timeout=TIMEOUT_MS / 1000)
    if not ready:
        raise SystemExit("no heartbeat reply")
    return json.loads(hb.recv_string())


def wait_event(kind, service_id, timeout=5.0):
    end = time.monotonic() + timeout
    while True:
        for e in events:
            if e["topic"] == kind and e["body"]["data"].get("service_id") == service_id:
                return e
        left = end - time.monotonic()
        if left <= 0:
            raise SystemExit(f"no {kind} event for {service_id}; saw {events!r}")
        if sub.poll(int(left * 1000)):
            topic, body = sub.recv_multipart()
            events.append({"topic": topic.decode(), "body": json.loads(body)})


out = {}
out["health"] = request({"action": "health"})

# The PUB socket drops what it sends before this subscription reaches it: register probes until one is seen.
probes = 0
for i in range(100):
    probes += 1
    request({"action": "register", "service_info": {"name": "probe", "id": f"probe-{i}", "host": "h", "port": 1,
                                                              "type": "PROBE", "allow_duplicate_service_type": True}})
    try:
        wait_event("register", f"probe-{i}", timeout=0.05)
        break
    except SystemExit:
        continue
for i in range(probes):
    request({"action": "deregister", "service_id": f"probe-{i}"}, msg_type=b"REQ_NO_REPLY")

out["register"] = request({
    "action": "register",
    "service_info": {"name": "cm_cs", "host": "127.0.0.1", "port": 6110, "type": "CM_CS",
                     "metadata": {"service_port": 6112, "monitoring_port": 6111}, "tags": ["CM_CS"]},
    "ttl": 2,
})
sid = out["register"]["service_id"]
out["register_event"] = wait_event("register", sid)
out["duplicate"] = request({"action": "register",
                            "service_info": {"name": "cm_cs_2", "host": "127.0.0.1", "port": 6120, "type": "CM_CS"}})
out["discover"] = request({"action": "discover", "service_type": "CM_CS"})
out["list"] = request({"action": "list", "service_type": "CM_CS"})

# Beat every 0.5 s for 3 s: well past the 2 s TTL (and with room for a slow machine between beats).
out["beats"] = []
for _ in range(6):
    time.sleep(0.5)
    out["beats"].append(heartbeat(sid))
out["after_beats"] = request({"action": "get", "service_id": sid})

aux = request({"action": "register", "service_info": {"name": "aux", "host": "h", "port": 2}})["service_id"]
request({"action": "deregister", "service_id": aux}, msg_type=b"REQ_NO_REPLY")
out["aux_deregister_event"] = wait_event("deregister", aux)
out["aux_get"] = request({"action": "get", "service_id": aux})

# Stop beating: the lease runs out and the sweep publishes expire.
out["expire_event"] = wait_event("expire", sid)
out["renew_after_expiry"] = heartbeat(sid)
out["reregister"] = request({"action": "register", "ttl": 30, "service_info": {
    "name": "cm_cs", "id": sid, "host": "127.0.0.1", "port": 6110, "type": "CM_CS"}})
out["deregister"] = request({"action": "deregister", "service_id": sid})
out["deregister_event"] = wait_event("deregister", sid)

out["invalid_json"] = request(None, raw=b"{nope")
out["unknown_action"] = request({"action": "fly"})
out["terminate"] = request({"action": "terminate"})
out["info"] = request({"action": "info"})

for s in (req, hb, sub):
    s.close(linger=0)
ctx.term()
print(json.dumps(out))
