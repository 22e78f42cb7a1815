#!/usr/bin/env python3
#
# Write a directory as a newc cpio archive, the format the kernel reads
# for an initramfs, on stdout.  Unlike cpio(1) it needs no root to give
# files to root, and the same tree always gives the same bytes: entries
# sorted, owners 0, inode numbers counted, times from SOURCE_DATE_EPOCH.
#
# usage: mkcpio.py DIR > archive

import os
import stat
import sys


def header(ino, mode, nlink, mtime, size, name):
    fields = (ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0,
              len(name) + 1, 0)
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def entry(out, ino, mode, nlink, mtime, name, data):
    name = name.encode()
    h = header(ino, mode, nlink, mtime, len(data), name) + name + b"\0"
    out.write(h + pad(len(h)) + data + pad(len(data)))


def walk(top):
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(dirs + files):
            path = os.path.join(root, n)
            yield os.path.relpath(path, top), path


def main():
    top = sys.argv[1]
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    out = sys.stdout.buffer
    ino = 1
    for name, path in sorted(walk(top)):
        st = os.lstat(path)
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            entry(out, ino, stat.S_IFDIR | perm, 2, mtime, name, b"")
        elif stat.S_ISLNK(st.st_mode):
            target = os.readlink(path).encode()
            entry(out, ino, stat.S_IFLNK | 0o777, 1, mtime, name, target)
        elif stat.S_ISREG(st.st_mode):
            with open(path, "rb") as f:
                data = f.read()
            entry(out, ino, stat.S_IFREG | perm, 1, mtime, name, data)
        else:
            sys.exit("mkcpio: %s: not a file, directory or link" % path)
        ino += 1
    entry(out, ino, 0, 1, 0, "TRAILER!!!", b"")


if __name__ == "__main__":
    main()
