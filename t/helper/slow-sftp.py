#!/usr/bin/env python3
"""A trickling SFTP server for t0121: sshd runs this (ForceCommand) in
place of its SFTP subsystem. It runs OpenSSH's sftp-server and passes the
client's requests through at once, and the server's answers at the rate
(bytes a second) written in the file named by its argument: 0 or no file
is full speed. The rate is read again for every 1,000 bytes, so a test
can slow a server down between commands of one session.

Usage: slow-sftp.py RATE-FILE"""

import os
import subprocess
import sys
import threading
import time

SFTP_SERVERS = ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server",
                "/usr/libexec/sftp-server")


def rate(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def pump_in(child):
    fd = sys.stdin.fileno()
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        child.stdin.write(b)
        child.stdin.flush()
    child.stdin.close()


def main():
    server = next((s for s in SFTP_SERVERS if os.access(s, os.X_OK)), None)
    if not server:
        sys.exit("slow-sftp: no sftp-server found")
    child = subprocess.Popen([server], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    threading.Thread(target=pump_in, args=(child,), daemon=True).start()
    out = sys.stdout.fileno()
    while True:
        b = child.stdout.read(65536)
        if not b:
            break
        i = 0
        while i < len(b):
            r = rate(sys.argv[1])
            n = 1000 if r <= 0 else max(1, min(1000, r // 20))
            os.write(out, b[i:i + n])
            i += n
            if r > 0:
                time.sleep(n / r)
    child.wait()


if __name__ == "__main__":
    main()
