#!/usr/bin/env python3
"""A raw Mufakat protocol client (standard library only), for hostile-push scenarios: version 2
(states named by the client) and version 5 (the hub names every write, PROTOCOL.md §13).

    HUB_KEY=SHA256:… raw-client.py HOST:PORT TOKEN REPLICA hostile COLLECTION ID OTHER_REPLICA
    HUB_KEY=SHA256:… raw-client.py HOST:PORT TOKEN REPLICA honest COLLECTION ID
    HUB_KEY=SHA256:… raw-client.py HOST:PORT TOKEN REPLICA edit COLLECTION ID FIELD VALUE
    HUB_KEY=SHA256:… raw-client.py HOST:PORT TOKEN REPLICA hostile5 COLLECTION ID OTHER_ID

`hostile5` speaks version 5: one honest write and one entered at 2100-01-01 by the laptop's
clock, then a replay of the first, the same write id with
other values and for another record, a context beyond what the hub issued, and relays of the
record with a made-up voucher and with edited tags; it prints one line per case:
NAME OUTCOME, where OUTCOME is `named ACTOR:COUNTER`, `earlier ACTOR:COUNTER`, a refusal code,
or for a relay `merged N` / `unchanged N` / a refusal code.

connects over TLS and checks the hub presents HUB_KEY (PROTOCOL.md §12), or in plain TCP
when HUB_KEY is unset or "insecure";

says hello as REPLICA, pulls everything, then sends one push per hostile variant of the
hub's state of COLLECTION/ID (or, as a control, one legitimate write of REPLICA's own
setting its `source` field to "raw client"; or `edit`: one write of its own setting FIELD to
VALUE) and prints one line per push:
NAME CODES FIELDS ACCEPTED REJECTED_COUNT, where CODES and FIELDS are the refusal codes and
fields of `pushed.rejected` for that record ("-" if none). Any protocol error is printed and
exits 1.
"""
import base64
import hashlib
import json
import os
import secrets
import socket
import ssl
import struct
import sys
import zlib


def der_element(data, offset):
    """(tag, start of content, end of content) of the DER element at offset."""
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    return tag, offset, offset + length


def spki_fingerprint(certificate):
    """SHA256:… of a DER certificate's SubjectPublicKeyInfo, the hub key replicas pin."""
    _, body, _ = der_element(certificate, 0)      # Certificate
    _, offset, _ = der_element(certificate, body)  # tbsCertificate
    if certificate[offset] == 0xA0:                # [0] version
        offset = der_element(certificate, offset)[2]
    for _ in range(5):                             # serial, signature, issuer, validity, subject
        offset = der_element(certificate, offset)[2]
    spki_end = der_element(certificate, offset)[2]
    digest = hashlib.sha256(certificate[offset:spki_end]).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def connect(host, port, key):
    sock = socket.create_connection((host, int(port)), timeout=10)
    if not key or key == "insecure":
        return sock
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # The pinned key is the trust: no certificate authority, no host name.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    tls = context.wrap_socket(sock)
    presented = spki_fingerprint(tls.getpeercert(binary_form=True))
    if presented != key:
        tls.close()
        raise SystemExit(f"the hub presented {presented}, not {key}: nothing sent")
    return tls


class Client:
    def __init__(self, address, token, replica):
        host, port = address.rsplit(":", 1)
        self.sock = connect(host, port, os.environ.get("HUB_KEY"))
        self.buffer = b""
        self.replica = replica
        self.send({"client": "raw-client.py", "replica": replica, "token": token, "type": "hello", "version": 2})
        self.welcome, _ = self.expect("welcome")
        self.after = self.welcome["push"]
        self.through = self.welcome["through"]

    def send(self, header, records=()):
        lines = [json.dumps(header, sort_keys=True, separators=(",", ":"))]
        lines += [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in records]
        body = ("\n".join(lines) + "\n").encode()
        self.sock.sendall(struct.pack(">I", len(body) + 1) + b"\x00" + body)

    def read_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the hub closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        (length,) = struct.unpack(">I", self.read_exact(4))
        frame = self.read_exact(length)
        flags, body = frame[0], frame[1:]
        if flags & 1:
            body = zlib.decompress(body)
        lines = body.decode().rstrip("\n").split("\n")
        return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]

    def expect(self, kind):
        header, records = self.receive()
        if header.get("type") != kind:
            print(f"expected {kind}, got {json.dumps(header)}")
            sys.exit(1)
        return header, records

    def pull_all(self):
        states, since = {}, 0
        while True:
            self.send({"limit": 1000, "since": since, "type": "pull"})
            header, records = self.expect("changes")
            for r in records:
                states[(r["collection"], r["id"])] = r
            since = header["through"]
            if not header["more"]:
                return states

    def push(self, records, counter):
        push_id = secrets.token_hex(8)
        self.through += 1
        self.send({"after": self.after, "counter": counter, "id": push_id, "through": self.through, "type": "push"}, records)
        pushed, _ = self.expect("pushed")
        self.after = push_id
        return pushed

    def bye(self):
        self.send({"type": "bye"})
        self.sock.close()


def report(name, pushed, collection, record_id):
    mine = [r for r in pushed["rejected"] if r["collection"] == collection and r["id"] == record_id]
    codes = ",".join(r["code"] for r in mine) or "-"
    fields = ",".join(f for r in mine for f in r["fields"]) or "-"
    print(name, codes, fields, pushed["accepted"], pushed["rejectedCount"])


def honest(client, collection, record_id):
    state = client.pull_all()[(collection, record_id)]
    counter = client.welcome["counter"] + 1
    state["context"][client.replica] = counter
    state["fields"]["source"] = [{"author": "Raw client", "dot": [client.replica, counter], "time": 2**41, "value": "raw client"}]
    report("honest", client.push([state], counter), collection, record_id)


def edit(client, collection, record_id, field, value):
    """One write of the client's own: FIELD set to VALUE (read as JSON when it parses, e.g. 300)."""
    state = client.pull_all().get((collection, record_id))
    if state is None:
        raise SystemExit(f"the hub sent no {collection} {record_id} to this token")
    try:
        value = json.loads(value)
    except ValueError:
        pass
    counter = client.welcome["counter"] + 1
    state["context"][client.replica] = counter
    state["fields"][field] = [{"author": "Raw client", "dot": [client.replica, counter], "time": 2**41, "value": value}]
    report("edit", client.push([state], counter), collection, record_id)


def hostile(client, collection, record_id, other):
    state = client.pull_all()[(collection, record_id)]
    kept = sorted(state["fields"])[0]
    own_max = 18446744073709551615
    forged = json.loads(json.dumps(state))
    forged["context"][other] = state["context"].get(other, 0) + 1000
    forged["fields"]["source"] = [{"author": "Not me", "dot": [other, forged["context"][other]], "time": 1, "value": "forged"}]
    beyond = json.loads(json.dumps(state))
    beyond["context"][client.replica] = own_max
    ahead = json.loads(json.dumps(state))
    ahead["context"][client.replica] = 5
    ahead["fields"]["source"] = [{"author": "Raw client", "dot": [client.replica, 5], "time": 2**41, "value": "ahead"}]
    altered = json.loads(json.dumps(state))
    altered["fields"][kept] = [dict(e, value=e["value"] + "x" if isinstance(e["value"], str) else "x") for e in state["fields"][kept]]
    cases = [
        ("context-only", {"collection": collection, "id": record_id, "context": state["context"], "fields": {}}, 0),
        ("one-field", {"collection": collection, "id": record_id, "context": state["context"],
                       "fields": {kept: state["fields"][kept]}}, 0),
        ("counter-max", beyond, 1),
        ("foreign-dot", forged, 0),
        ("counter-ahead", ahead, 1),
        ("altered-entry", altered, 0),
    ]
    for name, record, counter in cases:
        report(name, client.push([record], counter), collection, record_id)


class NamingClient:
    """Protocol 5: records in the compact form, with `voucher` and `tags` (PROTOCOL.md §13)."""

    def __init__(self, address, token, replica):
        host, port = address.rsplit(":", 1)
        self.sock = connect(host, port, os.environ.get("HUB_KEY"))
        self.buffer = b""
        self.send({"client": "raw-client.py", "replica": replica, "token": token, "type": "hello", "version": 5})
        self.welcome, _ = self.expect("welcome")

    def send(self, header, lines=()):
        text = [json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)]
        text += [json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for line in lines]
        body = ("\n".join(text) + "\n").encode()
        self.sock.sendall(struct.pack(">I", len(body) + 1) + b"\x00" + body)

    def read_exact(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the hub closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def expect(self, kind):
        (length,) = struct.unpack(">I", self.read_exact(4))
        frame = self.read_exact(length)
        body = zlib.decompress(frame[1:]) if frame[0] & 1 else frame[1:]
        lines = [json.loads(line) for line in body.decode().split("\n") if line]
        header = lines[0]
        if header["type"] != kind:
            raise SystemExit(f"expected {kind}, got {json.dumps(header)}")
        return header, lines[1:]

    def pull_all(self):
        states, since = {}, 0
        while True:
            self.send({"limit": 1000, "since": since, "type": "pull"})
            header, records = self.expect("changes")
            for record in records:
                states[(record["collection"], record["id"])] = record
            since = header["through"]
            if not header["more"]:
                return states

    def write(self, lines):
        self.send({"id": secrets.token_hex(8), "type": "write"}, lines)
        return self.expect("named")[1]

    def relay(self, records):
        self.send({"id": secrets.token_hex(8), "type": "relay"}, records)
        return self.expect("relayed")[0]


def write_line(collection, record_id, values, context, write=None, after=()):
    return {"after": list(after), "author": "Raw client", "collection": collection, "context": context,
            "entered": 2**41, "id": record_id, "values": values, "write": write or secrets.token_hex(16) + "-1"}


def hostile5(client, collection, record_id, other_id):
    state = client.pull_all()[(collection, record_id)]
    held = client.welcome["held"]
    run = client.welcome["incarnations"][-1]["actor"]
    context = state["context"]

    def outcome(line):
        if "refused" in line:
            return line["refused"]["code"]
        return ("earlier " if line.get("earlier") else "named ") + "%s:%d" % tuple(line["dot"])

    honest = write_line(collection, record_id, {"source": "raw client"}, context)
    print("honest", outcome(client.write([honest])[0]))
    # A laptop clock at the end of the range (2100-01-01): kept aside by the hub, which stamps
    # its own time; no rule reads it, so later writes to the record are not held back.
    future = dict(write_line(collection, record_id, {"statement": "entered by a clock at 2100"}, context), entered=4102444800000)
    print("far-future-clock", outcome(client.write([future])[0]))
    print("replay", outcome(client.write([honest])[0]))
    print("same-id-other-values", outcome(client.write([dict(honest, values={"source": "something else"})])[0]))
    print("same-id-other-record", outcome(client.write([dict(honest, id=other_id)])[0]))
    beyond = dict(context, **{run: held.get(run, 0) + 1000})
    print("context-beyond", outcome(client.write([write_line(collection, record_id, {"source": "claims"}, beyond)])[0]))
    served = client.pull_all()[(collection, record_id)]
    forged = dict(served, voucher="AAAAAAAAAAAAAAAA")
    retagged = dict(served, tags={key: secrets.token_hex(16) + "-1" for key in served.get("tags", {})})
    for name, record in [("relay-served", served), ("relay-forged-voucher", forged), ("relay-edited-tags", retagged)]:
        relayed = client.relay([record])
        codes = ",".join(r["code"] for r in relayed["rejected"])
        print(name, codes or ("merged %d" % relayed["merged"] if relayed["merged"] else "unchanged %d" % relayed["unchanged"]))


if __name__ == "__main__":
    address, token, replica, command = sys.argv[1:5]
    if command == "hostile5":
        naming = NamingClient(address, token, replica)
        hostile5(naming, *sys.argv[5:8])
        naming.send({"type": "bye"})
        raise SystemExit(0)
    client = Client(address, token, replica)
    if command == "hostile":
        hostile(client, *sys.argv[5:8])
    elif command == "honest":
        honest(client, *sys.argv[5:7])
    elif command == "edit":
        edit(client, *sys.argv[5:9])
    else:
        raise SystemExit(f"unknown command {command}")
    client.bye()
