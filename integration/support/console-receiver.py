#!/usr/bin/env python3
"""Test peer for --console-socket: accepts one connection on the unix socket
at argv[1], receives the pty master sent with SCM_RIGHTS, writes argv[3] (if
given) to it, and copies everything the container writes to the file at
argv[2] until the pty closes."""
import os
import socket
import sys

path, out_path = sys.argv[1], sys.argv[2]
to_send = sys.argv[3].encode() if len(sys.argv) > 3 else b""
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
name, fds, _, _ = socket.recv_fds(conn, 1024, 1)
conn.close()
server.close()
master = fds[0]
with open(out_path, "wb") as out:
    out.write(b"name=" + name + b"\n")
    out.flush()
    if to_send:
        os.write(master, to_send)
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every slave fd is closed
            break
        if not chunk:
            break
        out.write(chunk)
        out.flush()
