#!/usr/bin/env python3
"""A hostile S3 endpoint for t0115: hostile-s3.py MODE PORTFILE LOG

Listens on 127.0.0.1, on a free port it writes to PORTFILE once it
accepts connections, and answers path-style S3 requests for any bucket
without checking signatures. HEAD of a key ending in "cairn-remote"
finds the 22-byte marker, so a client gets past its first check; what
follows depends on MODE:

  same-token    every listing page says IsTruncated, with the same token
  new-tokens    every listing page says IsTruncated, with a new token
                (and one new key) each time
  endless-error every listing is HTTP 500 with an error body that never ends
  endless-200   listings name one pack index of 100 bytes; a GET of it is
                200 with a body that never ends, ignoring Range, and a
                Content-Length of 3 GiB
  endless-206   as endless-200, but 206 (as if the range were honoured)
  trickle       a listing's headers come at once, then one byte a second
  endless-put   listings are empty; a PUT is answered 200 with a body
                that never ends

Each request is logged to LOG as "METHOD PATH". The server exits by
itself after ten minutes, should the test that started it not stop it.
"""
import http.server
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

MODE = sys.argv[1]
PORTFILE = sys.argv[2]
LOG = sys.argv[3]
MARKER = b"cairn remote format 1\n"
IDX = "0123456789abcdef0123456789abcdef.idx"
log_lock = threading.Lock()
counter = [0]


def listing(prefix, keys, token=None):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
           "<Name>b</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>" % (prefix, len(keys)),
           "<MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>"]
    out.append("<IsTruncated>%s</IsTruncated>" % ("true" if token else "false"))
    if token:
        out.append("<NextContinuationToken>%s</NextContinuationToken>" % token)
    for k, size in keys:
        out.append("<Contents><Key>%s</Key><Size>%d</Size></Contents>" % (prefix + k, size))
    out.append("</ListBucketResult>")
    return "".join(out).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # headers and body go out in two writes: without this, each
        # answer waits for the client's delayed ACK (40 ms)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def log(self):
        with log_lock:
            with open(LOG, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))

    def send(self, code, body, ctype="application/xml", length=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def endless(self):
        block = b"x" * 65536
        try:
            while True:
                self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_HEAD(self):
        self.log()
        path = urllib.parse.urlsplit(self.path).path
        if path.endswith("/cairn-remote"):
            self.send(200, MARKER, "binary/octet-stream")
        elif path.endswith("/"):
            self.send(200, b"", "binary/octet-stream")
        else:
            self.send(404, b"")

    def do_GET(self):
        self.log()
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if "list-type" in q:
            return self.list(q.get("prefix", [""])[0], q.get("continuation-token", [None])[0])
        if MODE in ("endless-200", "endless-206") and u.path.endswith(".idx"):
            self.send_response(200 if MODE == "endless-200" else 206)
            self.send_header("Content-Type", "binary/octet-stream")
            self.send_header("Content-Length", str(3 << 30))
            if MODE == "endless-206":
                self.send_header("Content-Range", "bytes 0-%d/%d" % ((3 << 30) - 1, 3 << 30))
            self.end_headers()
            return self.endless()
        if u.path.endswith("/cairn-remote"):
            return self.send(200, MARKER, "binary/octet-stream")
        self.send(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def do_PUT(self):
        self.log()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if MODE != "endless-put":
            return self.send(403, b"<Error><Code>AccessDenied</Code></Error>")
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Connection", "close")
        self.end_headers()
        self.endless()

    def list(self, prefix, token):
        if MODE == "same-token":
            return self.send(200, listing(prefix, [], "always-the-same"))
        if MODE == "new-tokens":
            counter[0] += 1
            n = counter[0]
            return self.send(200, listing(prefix, [("junk-%d" % n, 1)], "token-%d" % n))
        if MODE == "endless-error":
            self.send_response(500)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(b"<Error><Code>InternalError</Code><Message>")
            except (BrokenPipeError, ConnectionResetError):
                return
            return self.endless()
        if MODE == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(1000000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if prefix.endswith("packs/") and MODE != "endless-put":
            return self.send(200, listing(prefix, [(IDX, 100)]))
        self.send(200, listing(prefix, []))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, PORTFILE)
    threading.Timer(600, lambda: os._exit(0)).start()
    srv.serve_forever()


main()
