#!/usr/bin/env python3
"""A console-socket receiver with the command line of runc's test helper
`recvtty` (written for runc-ts, used when running runc's bats suite):
    recvtty [--pid-file FILE] [--mode null|single] SOCKET
Receives pty masters sent with SCM_RIGHTS. `null` keeps accepting and
discards the output; `single` takes one pty and copies it to/from stdio."""
import argparse
import os
import socket
import sys
import threading

parser = argparse.ArgumentParser()
parser.add_argument("--pid-file")
parser.add_argument("--mode", default="single", choices=["null", "single"])
parser.add_argument("socket")
args = parser.parse_args()

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(args.socket)
server.listen(16)
if args.pid_file:
    with open(args.pid_file, "w") as f:
        f.write(str(os.getpid()))


def drain(master):
    try:
        while os.read(master, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(master)


def receive(conn):
    _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    return fds[0]


if args.mode == "null":
    while True:
        conn, _ = server.accept()
        threading.Thread(target=drain, args=(receive(conn),), daemon=True).start()
else:
    conn, _ = server.accept()
    master = receive(conn)

    def copy_in():
        try:
            while True:
                data = os.read(0, 4096)
                if not data:
                    break
                os.write(master, data)
        except OSError:
            pass

    threading.Thread(target=copy_in, daemon=True).start()
    try:
        while True:
            data = os.read(master, 4096)
            if not data:
                break
            os.write(1, data)
    except OSError:
        pass
    sys.exit(0)
