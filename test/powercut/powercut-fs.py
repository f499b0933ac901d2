#!/usr/bin/python3
"""powercut-fs: a FUSE pass-through file system that can simulate a power cut.

Usage:  /usr/bin/python3 test/powercut/powercut-fs.py <backing-dir> <mountpoint>
Runs in the foreground. Prints "ready" once mounted. Signals:
  SIGUSR1  power cut: discard all data not yet fsynced; prints
           "dropped <N> bytes in <M> files (fsyncs=<K>) [<path>:<bytes> ...]"
           (N counts dirty byte ranges at page granularity; path = name when first dirtied)
  env POWERCUT_KEEP=<p>: at a cut, persist each un-fsynced item with probability p
           (torn/reordered writeback) instead of dropping all of it (default 0).
  SIGUSR2  print "stats dirty_bytes=<N> dirty_files=<M> fsyncs=<K> fdatasyncs=<D> dirsyncs=<S>"
  SIGTERM / SIGINT / fusermount3 -u  unmount; un-fsynced data is NOT written back
           (an unmount counts as a power cut too; prints "unmounted, discarded ...").
Needs Debian's fuse3 + python3-fusepy (module "fusepy", which drives libfuse2).

Model (what survives a cut):
  * File DATA and SIZE changes (write, truncate, ftruncate, O_TRUNC) go into an
    in-memory overlay per backing inode, key (st_dev, st_ino): dirty 4 KiB pages
    plus the pending size. Reads and getattr see the overlay (like a page cache).
    fsync/fdatasync on any handle of the inode writes the inode's overlay to the
    backing file and fsyncs it; that data then survives a cut.
  * SIMPLIFICATION: metadata ops (create, mkdir, unlink, rmdir, rename, link,
    symlink, chmod, chown, utimens) go straight to the backing dir and are
    therefore immediately durable. A real file system may lose an un-fsynced
    create/rename; this one never does (stronger than reality for metadata).
  * Keying by inode means rename/link carry the overlay automatically; the overlay
    is discarded when the inode's last link is removed (unlink, rename over it).
    libfuse renames open-but-unlinked files to .fuse_hidden*; leftovers from a
    cut are removed at startup (like orphan cleanup after a crash).
  * Backing bytes are never modified except by fsync (and POWERCUT_KEEP cuts),
    so a cut simply forgets the overlays. The KERNEL page cache of this mount may still show dropped
    data until unmount: after SIGUSR1, kill users of the mount and remount.
Mount options (libfuse2): no direct_io (it would break SQLite's shared mmap of
-shm), no kernel_cache/auto_cache (page cache dropped on every open), and libfuse2
has no writeback_cache, so every write() reaches this daemon synchronously.
attr/entry/negative_timeout=0 so sizes always come from the overlay. No `lock`
op: the kernel handles POSIX (fcntl) locks locally, fine for one-host tests.
Threads: libfuse runs ops on several threads; all state is guarded by one lock.
"""
import errno, os, random, signal, stat, sys, threading
from fusepy import FUSE, FuseOSError, Operations

PAGE = 4096  # overlay granularity in bytes
MOUNT_OPTS = dict(foreground=True, nothreads=False, fsname='powercut', use_ino=True,
                  attr_timeout=0, entry_timeout=0, negative_timeout=0, big_writes=True)


class Overlay:
    """Un-fsynced state of one backing inode. Invariants:
    zero_from <= size; bytes of the backing file at offsets >= zero_from are
    stale (the file was truncated below them) and read as zero; every page in
    `pages` holds the full current content of that page (base + writes), with
    bytes at offsets >= size zero; [lo, hi) (page-relative) covers all bytes
    written since the page was loaded."""
    __slots__ = ('size', 'zero_from', 'pages', 'name', 'fd')

    def __init__(self, size, name, fd):
        self.name = name                 # path at creation, for reports only
        self.fd = fd                     # private writable fd on the backing inode
        self.size = size                 # logical size in bytes (what stat shows)
        self.zero_from = size            # see invariant above
        self.pages = {}                  # page index -> [bytearray(PAGE), lo, hi]

    def dirty_bytes(self):
        return sum(hi - lo for _, lo, hi in self.pages.values() if hi > lo)


class PowerCutFS(Operations):
    use_ns = True  # times as integer nanoseconds

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.mu = threading.Lock()  # NOT "self.lock": fusepy would take it for the lock op
        self.ov = {}          # (st_dev, st_ino) -> Overlay
        self.writable = set() # file handles (backing fds) opened O_RDWR/O_WRONLY
        self.fsyncs = self.fdatasyncs = self.dirsyncs = 0
        # Fraction (0..1) of un-fsynced items that a cut writes to the backing
        # file anyway, each chosen independently (models writeback that happened
        # in random order before the cut). 0 = drop everything.
        self.keep = float(os.environ.get('POWERCUT_KEEP', '0'))

    def _p(self, path):
        return self.root + path  # fusepy paths are absolute ("/a/b")

    @staticmethod
    def _key(st):
        return (st.st_dev, st.st_ino)

    def _get_ov(self, st, path, fh=None):
        """Overlay of inode `st`, created from the backing size if absent."""
        k = self._key(st)
        ov = self.ov.get(k)
        if ov is None:
            fd = os.dup(fh) if fh in self.writable else os.open(self._p(path), os.O_RDWR | os.O_CLOEXEC)
            ov = self.ov[k] = Overlay(st.st_size, path, fd)
        return ov

    def _discard(self, k):
        ov = self.ov.pop(k, None)
        if ov is not None:
            os.close(ov.fd)

    @staticmethod
    def _write_back(ov, keep=1.0):
        """Apply ov to the backing file: truncation to zero_from, each page's
        dirty range, the final size; each item with probability `keep`, in that
        order. Returns the number of dirty bytes written."""
        fd, n = ov.fd, 0
        if os.fstat(fd).st_size > ov.zero_from and random.random() < keep:
            os.ftruncate(fd, ov.zero_from)
        for pg in sorted(ov.pages):
            buf, lo, hi = ov.pages[pg]
            if hi > lo and random.random() < keep:
                n += os.pwrite(fd, bytes(buf[lo:hi]), pg * PAGE + lo)
        if random.random() < keep:
            os.ftruncate(fd, ov.size)
        return n

    @staticmethod
    def _base(fd, off, n, ov):
        """n bytes at `off` as the backing file looks under `ov` (zeros past
        zero_from and past backing EOF)."""
        want = max(0, min(n, ov.zero_from - off))
        data = os.pread(fd, want, off) if want else b''
        return data + bytes(n - len(data))

    def _stat(self, path, fh):
        return os.fstat(fh) if isinstance(fh, int) else os.lstat(self._p(path))

    # ---------------------------------------------------------- power cut / stats
    def power_cut(self, word='dropped', keep=None):
        with self.mu:
            lost = {}  # name -> dirty bytes not written back
            keep = self.keep if keep is None else keep
            for k in list(self.ov):
                ov = self.ov[k]
                kept = self._write_back(ov, keep) if keep > 0 else 0
                lost[ov.name] = lost.get(ov.name, 0) + ov.dirty_bytes() - kept
                self._discard(k)
            print('%s %d bytes in %d files (fsyncs=%d) [%s]' % (
                word, sum(lost.values()), len(lost), self.fsyncs + self.fdatasyncs,
                ' '.join('%s:%d' % kv for kv in lost.items())), flush=True)

    def stats(self):
        with self.mu:
            print('stats dirty_bytes=%d dirty_files=%d fsyncs=%d fdatasyncs=%d dirsyncs=%d' % (
                sum(o.dirty_bytes() for o in self.ov.values()), len(self.ov),
                self.fsyncs, self.fdatasyncs, self.dirsyncs), flush=True)

    def init(self, path):
        print('ready', flush=True)

    def destroy(self, path):
        self.power_cut('unmounted, discarded', keep=0)  # writes after a cut never persist

    # ---------------------------------------------------------- data path
    def getattr(self, path, fh=None):
        st = self._stat(path, fh)
        d = {k: getattr(st, k) for k in ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size',
                                         'st_ino', 'st_dev', 'st_blocks', 'st_rdev')}
        d.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns, st_ctime=st.st_ctime_ns)
        with self.mu:
            ov = self.ov.get(self._key(st))
            if ov is not None:
                d['st_size'] = ov.size
                d['st_blocks'] = (ov.size + 511) // 512
        return d

    def open(self, path, flags):
        p = self._p(path)
        # Backing fds are opened read-write when possible so an overlay can dup
        # one for write-back; O_TRUNC must not hit the backing file (overlay).
        try:
            fd = os.open(p, os.O_RDWR | os.O_CLOEXEC)
            rw = True
        except OSError:
            fd = os.open(p, (flags & os.O_ACCMODE) | os.O_CLOEXEC)
            rw = (flags & os.O_ACCMODE) != os.O_RDONLY
        with self.mu:
            if rw:
                self.writable.add(fd)
        if flags & os.O_TRUNC:
            self.truncate(path, 0, fd)
        return fd

    def create(self, path, mode, fi=None):
        fd = os.open(self._p(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        with self.mu:
            self.writable.add(fd)
        return fd

    def read(self, path, size, off, fh):
        with self.mu:
            ov = self.ov.get(self._key(os.fstat(fh)))
            if ov is None:
                return os.pread(fh, size, off)
            end = min(off + size, ov.size)
            if off >= end:
                return b''
            buf = bytearray(self._base(fh, off, end - off, ov))
            for pg in range(off // PAGE, (end - 1) // PAGE + 1):
                page = ov.pages.get(pg)
                if page is not None:
                    s, e = max(off, pg * PAGE), min(end, (pg + 1) * PAGE)
                    buf[s - off:e - off] = page[0][s - pg * PAGE:e - pg * PAGE]
            return bytes(buf)

    def write(self, path, data, off, fh):
        if not data:
            return 0
        with self.mu:
            ov = self._get_ov(os.fstat(fh), path, fh)
            end = off + len(data)
            for pg in range(off // PAGE, (end - 1) // PAGE + 1):
                page = ov.pages.get(pg)
                if page is None:  # load the page's current content, nothing dirty yet
                    page = ov.pages[pg] = [bytearray(self._base(fh, pg * PAGE, PAGE, ov)), PAGE, 0]
                s, e = max(off, pg * PAGE), min(end, (pg + 1) * PAGE)
                page[0][s - pg * PAGE:e - pg * PAGE] = data[s - off:e - off]
                page[1] = min(page[1], s - pg * PAGE)
                page[2] = max(page[2], e - pg * PAGE)
            ov.size = max(ov.size, end)
            return len(data)

    def truncate(self, path, length, fh=None):
        st = self._stat(path, fh)
        with self.mu:
            if self._key(st) not in self.ov and st.st_size == length:
                return 0
            ov = self._get_ov(st, path, fh)
            if length < ov.size:
                for pg in list(ov.pages):
                    page = ov.pages[pg]
                    rel = length - pg * PAGE  # bytes of this page that survive
                    if rel <= 0 or min(page[2], rel) <= page[1]:
                        del ov.pages[pg]      # nothing dirty left: content == base
                    elif rel < PAGE:
                        page[0][rel:] = bytes(PAGE - rel)
                        page[2] = min(page[2], rel)
                ov.zero_from = min(ov.zero_from, length)
            ov.size = length
        return 0

    def fsync(self, path, datasync, fh):
        with self.mu:
            if datasync:
                self.fdatasyncs += 1
            else:
                self.fsyncs += 1
            k = self._key(os.fstat(fh))
            ov = self.ov.get(k)
            if ov is not None:
                self._write_back(ov)
                (os.fdatasync if datasync else os.fsync)(ov.fd)
                self._discard(k)  # only after the data is safely in the backing file
            else:
                (os.fdatasync if datasync else os.fsync)(fh)
        return 0

    def flush(self, path, fh):
        return 0  # close() does not make data durable (like a page cache)

    def release(self, path, fh):
        with self.mu:
            self.writable.discard(fh)
        os.close(fh)  # the overlay lives on after close, until fsync or a cut
        return 0

    # ---------------------------------------------------------- metadata (straight to backing)
    def _forget_if_last_link(self, p):
        """Call before removing the link at p: drop the overlay if p is the last link."""
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return None
        return self._key(st) if st.st_nlink <= 1 and stat.S_ISREG(st.st_mode) else None

    def unlink(self, path):
        with self.mu:
            k = self._forget_if_last_link(self._p(path))
            os.unlink(self._p(path))
            self._discard(k)

    def rename(self, old, new):
        with self.mu:
            k = self._forget_if_last_link(self._p(new))
            if k is not None and k == self._key(os.lstat(self._p(old))):
                k = None  # rename onto another link of the same inode
            os.rename(self._p(old), self._p(new))
            self._discard(k)

    def fsyncdir(self, path, datasync, fh):
        with self.mu:
            self.dirsyncs += 1
        fd = os.open(self._p(path), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return 0

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._p(path))

    def access(self, path, amode):
        if not os.access(self._p(path), amode):
            raise FuseOSError(errno.EACCES)

    def mkdir(self, path, mode): os.mkdir(self._p(path), mode)
    def rmdir(self, path): os.rmdir(self._p(path))
    def mknod(self, path, mode, dev): os.mknod(self._p(path), mode, dev)
    def symlink(self, target, source): os.symlink(source, self._p(target))
    def link(self, target, source): os.link(self._p(source), self._p(target))
    def readlink(self, path): return os.readlink(self._p(path))
    def chmod(self, path, mode): os.chmod(self._p(path), mode)
    def chown(self, path, uid, gid): os.lchown(self._p(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._p(path), ns=times) if times else os.utime(self._p(path))

    def statfs(self, path):
        sv = os.statvfs(self._p(path))
        return {k: getattr(sv, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail',
                                            'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: %s <backing-dir> <mountpoint>' % sys.argv[0])
    fs = PowerCutFS(sys.argv[1])
    # Orphan cleanup: files that were unlinked while open when the last cut hit.
    for d, _, files in os.walk(fs.root):
        for f in files:
            if f.startswith('.fuse_hidden'):
                os.unlink(os.path.join(d, f))
    # Python runs signal handlers only in the main thread, which sits inside
    # libfuse's C loop; so block the signals everywhere and sigwait in a thread.
    sigs = {signal.SIGUSR1, signal.SIGUSR2}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)  # inherited by libfuse's threads

    def sig_loop():
        while True:
            (fs.power_cut if signal.sigwait(sigs) == signal.SIGUSR1 else fs.stats)()
    threading.Thread(target=sig_loop, daemon=True).start()
    FUSE(fs, sys.argv[2], **MOUNT_OPTS)


if __name__ == '__main__':
    main()
