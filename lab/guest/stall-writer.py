#!/usr/bin/env python3
# What a kernel initiator's user sees across a failover: one durable 4 KiB write every 50 ms to a
# block device (O_DIRECT | O_DSYNC, so each acknowledgement means the target has it), each logged
# with its start and end times and its outcome. Stops when STOPFILE exists.
#
#   stall-writer.py write DEV LOG STOPFILE [FIRST]   blocks FIRST, FIRST+1, ... (each names itself)
#   stall-writer.py report LOG SINCE_NS              "<writes> <acked> <errors> <longest gap s>"
#   stall-writer.py verify DEV LOG                   every acknowledged block reads back; prints
#                                                    "<checked> <bad>"
# The longest gap is between consecutive acknowledgements (or SINCE_NS and the first one after
# it), over the writes that started after SINCE_NS: the outage as the application lives it.
import mmap
import os
import sys
import time

BS = 4096
AREA = 1 << 16  # blocks cycle through the first 256 MiB


def block(i: int) -> bytes:
    b = (b"tsstor-lab-stall-%012d\n" % i) * (BS // 32)
    return b[:BS].ljust(BS, b"\0")


def write(dev: str, log: str, stop: str, first: int) -> None:
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    buf = mmap.mmap(-1, BS)  # page aligned, as O_DIRECT needs
    with open(log, "a", buffering=1) as out:
        i = first
        while not os.path.exists(stop):
            buf.seek(0)
            buf.write(block(i))
            t0 = time.time_ns()
            try:
                os.pwrite(fd, buf, (i % AREA) * BS)
                rc = 0
            except OSError as e:
                rc = e.errno
            t1 = time.time_ns()
            out.write(f"{i} {t0} {t1} {rc}\n")
            i += 1
            rest = 0.05 - (time.time_ns() - t0) / 1e9
            if rest > 0:
                time.sleep(rest)


def records(log: str):
    with open(log) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                yield int(p[0]), int(p[1]), int(p[2]), int(p[3])


def report(log: str, since: int) -> None:
    rs = [r for r in records(log) if r[1] >= since]
    acked = [r for r in rs if r[3] == 0]
    errors = len(rs) - len(acked)
    last, gap = since, 0
    for r in acked:
        gap = max(gap, r[2] - last)
        last = r[2]
    print(f"{len(rs)} {len(acked)} {errors} {gap / 1e9:.2f}")


def verify(dev: str, log: str) -> None:
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, BS)
    latest = {}
    for i, _, _, rc in records(log):
        latest[i % AREA] = (i, rc)
    checked = bad = 0
    for slot, (i, rc) in latest.items():
        if rc != 0:
            continue
        checked += 1
        os.preadv(fd, [buf], slot * BS)
        if bytes(buf) != block(i):
            bad += 1
    print(f"{checked} {bad}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif cmd == "report":
        report(sys.argv[2], int(sys.argv[3]))
    elif cmd == "verify":
        verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"usage: {sys.argv[0]} write|report|verify ...")
