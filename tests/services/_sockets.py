"""This process's TCP connections to a port, read from the kernel (/proc), not the client.

For servers that cannot list their clients (etcd's HTTP gateway, aiosmtpd):
the kernel knows which of our sockets are connected to the server's port, and
each has its own local port, so a check that opens a new connection per run
shows a new local port each time.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["local_ports_to"]

_ESTABLISHED = "01"


def local_ports_to(port: int) -> set[int]:
    """Local ports of this process's established TCP connections to loopback ``port``."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == _ESTABLISHED and inode in inodes and int(remote[-4:], 16) == port:
                found.add(int(local[-4:], 16))
    return found
