#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A FUSE file system whose statfs() hangs, like one on a dead NFS server (node_exporter #244).

usage: fuse_hang.py MOUNTPOINT   (root; speaks the FUSE protocol on /dev/fuse itself)

Mounts an empty directory at MOUNTPOINT and prints "mounted". Every statfs() request is left
unanswered until SIGUSR1; then the pending ones are answered (4096-byte blocks: 1000 in all, 600
free, 500 available; 100 files, 40 free) and so are the later ones, at once. SIGTERM unmounts
(closing /dev/fuse fails whatever is still waiting with ENOTCONN).
"""
import ctypes
import os
import signal
import struct
import sys

FUSE_GETATTR, FUSE_STATFS, FUSE_INIT, FUSE_DESTROY = 3, 17, 26, 38
IN_HEADER = struct.Struct('<IIQQIIIHH')  # len opcode unique nodeid uid gid pid extlen pad
OUT_HEADER = struct.Struct('<IiQ')  # len error unique

mountpoint = sys.argv[1]
fd = os.open('/dev/fuse', os.O_RDWR)
libc = ctypes.CDLL(None, use_errno=True)
opts = f'fd={fd},rootmode=40000,user_id=0,group_id=0'.encode()
if libc.mount(b'o11yhang', mountpoint.encode(), b'fuse', 0, opts) != 0:
    sys.exit(f'mount: {os.strerror(ctypes.get_errno())}')

released = False
pending = []


def reply(unique, payload=b'', error=0):
    os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(payload), error, unique) + payload)


def statfs_reply(unique):
    # blocks bfree bavail files ffree bsize namelen frsize padding spare[6]
    reply(unique, struct.pack('<QQQQQIIII24x', 1000, 600, 500, 100, 40, 4096, 255, 4096, 0))


def release(signum, frame):
    global released
    released = True
    while pending:
        statfs_reply(pending.pop())


def stop(signum, frame):
    libc.umount2(mountpoint.encode(), 2)  # MNT_DETACH
    sys.exit(0)


signal.signal(signal.SIGUSR1, release)
signal.signal(signal.SIGTERM, stop)
print('mounted', flush=True)
while True:
    try:
        req = os.read(fd, 1 << 17)
    except OSError:
        break  # unmounted
    _, opcode, unique, nodeid, *_ = IN_HEADER.unpack_from(req)
    body = req[IN_HEADER.size:]
    if opcode == FUSE_INIT:
        major, minor = struct.unpack_from('<II', body)
        # major minor max_readahead flags max_background congestion max_write time_gran
        # max_pages map_alignment flags2 unused[7]
        reply(unique, struct.pack('<IIIIHHIIHHI28x', 7, min(minor, 31), 0, 0, 16, 12, 4096, 1,
                                  1, 0, 0))
    elif opcode == FUSE_STATFS:
        if released:
            statfs_reply(unique)
        else:
            pending.append(unique)
    elif opcode == FUSE_GETATTR:
        # attr_valid attr_valid_nsec dummy; ino size blocks atime mtime ctime (u64),
        # atimensec mtimensec ctimensec mode nlink uid gid rdev blksize flags (u32)
        reply(unique, struct.pack('<QII6Q10I', 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0o40755, 2,
                                  0, 0, 0, 4096, 0))
    elif opcode == FUSE_DESTROY:
        reply(unique)
        break
    else:
        reply(unique, error=-38)  # ENOSYS
