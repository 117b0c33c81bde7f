"""Blocking object-file I/O on one device: durable writes, reads, tombstones, quarantine, hashes.

Every function here runs on the device's bounded executor (strato.executors), never on the event
loop. A write goes temp file in <device>/tmp → write → trailer → fsync → rename into the hash
directory → fsync directory, so a reader sees the whole object or nothing, and the newest timestamp
is decided under a per-hash-directory lock at rename time (two racing PUTs cannot both win).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import errno
import fcntl
import itertools
import os
import random
import threading
import time

import xxhash

from native import chunkio
from native.checksum import Md5Xxh3
from strato.timestamps import Timestamp

from . import layout, metafile

READ_TAIL = 64 * 1024  # one pread covers the trailer of nearly every file
# Files at least this large get their space reserved (fallocate) before they are written: ext4
# then skips its delayed-allocation work per 4 KiB page (a durable 1 MiB file: ~13 % less CPU
# here); at 4-64 KiB the extra system call gained nothing measurable.
RESERVE_MIN = 256 * 1024
# Superseded data files of at most SPARE_MAX bytes are kept, up to SPARES_PER_DEVICE a device, as
# spares for the next writes (SparePool).
SPARES_PER_DEVICE = 16
SPARE_MAX = 4 << 20
_LOCKS = [threading.Lock() for _ in range(512)]
_tmp_names = random.Random()  # seeded from os.urandom; names are claimed with O_EXCL


class ConflictError(Exception):
    """The hash directory already holds a version at least as new."""

    def __init__(self, existing: Timestamp):
        super().__init__(existing.internal)
        self.existing = existing


class NoObjectError(Exception):
    """A .meta (POST) for an object that has no current data file."""

    def __init__(self, tombstone: Timestamp | None):
        super().__init__(tombstone.internal if tombstone else "absent")
        self.tombstone = tombstone


def _lock_for(path: str) -> threading.Lock:
    return _LOCKS[hash(path) % len(_LOCKS)]


def listdir(path: str) -> list[str]:
    try:
        return chunkio.listdir(path)  # one step (one GIL release) in the compiled twin
    except (FileNotFoundError, NotADirectoryError):
        return []


def _open_dir(path: str) -> int:
    """A directory's descriptor, or -1 when it does not exist."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return -1


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs_durable(path: str) -> None:
    """os.makedirs, fsyncing the parent of every directory it creates (a crash keeps the path)."""
    for parent in makedirs_deferred(path):
        fsync_dir(parent)


def makedirs_deferred(path: str) -> list[str]:
    """os.makedirs without fsyncs: returns the parents of the directories it created, deepest
    first. The caller must fsync every one of them before it acknowledges anything under `path`
    (Writer.commit overlaps those fsyncs with the data file's own)."""
    parents = []
    for attempt in range(10):
        created, probe = [], path
        while not os.path.isdir(probe):
            created.append(probe)
            probe = os.path.dirname(probe)
        try:
            for new in reversed(created):
                try:
                    os.mkdir(new)
                except FileExistsError:
                    continue
                parents.append(os.path.dirname(new))
            break
        except FileNotFoundError:
            # the replicator pruned an empty parent (partition/suffix) between our mkdirs
            if attempt == 9:
                raise
    parents.reverse()
    return parents


def _fsync_dir_if_present(path: str) -> None:
    """A parent the replicator pruned meanwhile is recreated (and fsynced) by commit's rename loop."""
    try:
        fsync_dir(path)
    except FileNotFoundError:
        pass


def ensure_device_dirs(device_path: str) -> None:
    for sub in (layout.objects_dir(device_path), layout.tmp_dir(device_path),
                layout.async_pending_dir(device_path), layout.db_dir(device_path)):
        os.makedirs(sub, exist_ok=True)


class DeviceInUseError(RuntimeError):
    pass


# How long a starting node waits for a device's lock: a previous process of the same node may still
# be finishing its shutdown (an all-in-one restarted right after its supervisor was killed).
DEVICE_LOCK_WAIT = 10.0


def lock_device(device_path: str) -> int:
    """An exclusive flock on <device>/.lock for this process's lifetime (the kernel drops it when
    the process dies); returns its fd. A second storage process on the same device would sweep
    the first one's unfinished temp files (failing its writes) and race it on hash directories,
    whose locks are per process: after DEVICE_LOCK_WAIT seconds it is refused with
    DeviceInUseError instead."""
    fd = os.open(os.path.join(device_path, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + DEVICE_LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise DeviceInUseError(
                    f"{device_path} is served by another storage process") from None
            time.sleep(0.1)


class SparePool:
    """Superseded data files kept open for reuse, per device, in <device>/tmp.

    Without them every overwrite frees an inode and its blocks and the next write allocates new
    ones. On ext4 without a journal (this project's machines) allocating an inode scans past
    every inode of its group freed in the last 30 s to 5 min (the kernel's recently_deleted), and
    every temp file is made in one directory, so one group: under a steady overwrite load that
    scan was ~1/4 of a 4 KiB PUT's CPU. Anywhere, unlinking a 1 MiB file costs ~0.4 ms (freeing
    and discarding its blocks) and a new one its allocation. A spare is written over in place and
    cut to its new length, then renamed into its hash directory like any temp file.

    Safety: chunkio.rename_synced takes a file as a spare only under an exclusive flock, and
    every reader of object files holds a shared one (chunkio.open_tail, open_file) and checks
    the file is still at the path it opened: a file being read is unlinked as before instead of
    recycled, and a reader that opened a file just before it was recycled gets
    FileNotFoundError and looks again (the newer version is committed by then). Only regular
    files with one link are taken. Spares are never visible (they live in tmp, swept at start)
    and are dropped when the device runs out of space.

    Crashes: the move into tmp is not fsynced by itself. On a journaled file system (ext4, XFS)
    it is in the log before the spare's reuse is, and the reuse's own fsyncs commit the log in
    order, so a crash never leaves the old name pointing at the reused inode. Without a journal
    no rename is crash-consistent and fsck repairs link counts at boot, as for any temp file;
    a stale old name would then be older than the version that superseded it, never served, and
    removed as obsolete."""

    def __init__(self):
        self._lock = threading.Lock()
        self._free: dict[str, list[tuple[int, str]]] = {}
        self._serial = itertools.count()

    def vacancy(self, device_path: str) -> str | None:
        """A path in <device>/tmp for one more spare, or None when the device has enough."""
        if len(self._free.get(device_path, ())) >= SPARES_PER_DEVICE:
            return None
        return os.path.join(layout.tmp_dir(device_path),
                            f"{os.getpid()}.{next(self._serial)}.spare")

    def put(self, device_path: str, fd: int, path: str) -> None:
        with self._lock:
            free = self._free.setdefault(device_path, [])
            if len(free) < SPARES_PER_DEVICE:
                free.append((fd, path))
                return
        _discard(fd, path)  # others filled the pool meanwhile

    def take(self, device_path: str) -> tuple[int, str] | None:
        """(fd, path) of a spare: open read-write, flock'ed exclusively until closed."""
        with self._lock:
            free = self._free.get(device_path)
            return free.pop() if free else None

    def drop(self, device_path: str) -> None:
        """Give the device's spares' space back (it is full)."""
        with self._lock:
            free = self._free.pop(device_path, [])
        for fd, path in free:
            _discard(fd, path)


def _discard(fd: int, path: str) -> None:
    os.close(fd)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


spares = SparePool()


def sweep_tmp(device_path: str) -> int:
    """Remove every leftover temp file (writes a crash interrupted) and spare of an earlier
    process; they were never visible."""
    spares.drop(device_path)
    removed = 0
    tmp = layout.tmp_dir(device_path)
    for name in listdir(tmp):
        try:
            os.unlink(os.path.join(tmp, name))
            removed += 1
        except OSError:
            pass
    return removed


def current(device_path: str, part: int, name_hash: str, policy: int = 0) -> layout.FileSet:
    return layout.choose(listdir(layout.hash_dir(device_path, part, name_hash, policy)))


# Directory fsyncs that can overlap the data file's fsync (a new object's suffix and partition
# directories). Serially a new 4 KiB object paid four fsyncs in a row (~10 ms here); overlapped,
# the kernel folds them into the data file's journal commit (~4 ms). Bounded and shared by the
# whole process: its jobs only fsync, they never wait on anything, so it cannot deadlock.
_DIR_SYNC_THREADS = 8
_dir_sync_pool: concurrent.futures.ThreadPoolExecutor | None = None
_dir_sync_lock = threading.Lock()


def _dir_sync_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _dir_sync_pool
    if _dir_sync_pool is None:
        with _dir_sync_lock:
            if _dir_sync_pool is None:
                _dir_sync_pool = concurrent.futures.ThreadPoolExecutor(
                    _DIR_SYNC_THREADS, thread_name_prefix="dir-fsync")
    return _dir_sync_pool


class Xxh3Only:
    """The part of Md5Xxh3's interface a footer PUT uses: the proxy sent the body's MD5
    (strato/put_footer.py), so the node hashes only xxh3 (~1/50 of MD5's cost per byte)."""

    __slots__ = ("_xxh3", "update")

    def __init__(self):
        self._xxh3 = xxhash.xxh3_64()
        # the hasher's own method: hold() calls it once per received piece, with no Python
        # frame of ours in between
        self.update = self._xxh3.update

    def xxh3_hexdigest(self) -> str:
        return self._xxh3.hexdigest()


class Writer:
    """One new file for a hash directory: body via write(), then commit() or abort().
    md5=False hashes xxh3 only (the caller knows the MD5 from elsewhere and checks the xxh3)."""

    def __init__(self, device_path: str, part: int, name_hash: str, policy: int = 0,
                 md5: bool = True, expected_size: int | None = None):
        """expected_size: the body's length when the caller knows it (Content-Length): a body
        written in several steps then has its space reserved when its file is created."""
        self.device_path = device_path
        self.expected_size = expected_size
        # the open file may extend past what will be written (a reservation, or a spare), so
        # the commit cuts it where the trailer ends
        self._may_be_longer = False
        self.part = part
        self.name_hash = name_hash
        self.policy = policy
        self.hasher = Md5Xxh3() if md5 else Xxh3Only()
        self.size = 0  # bytes of body written to the file
        self._held: list = []  # hashed, not yet written (see hold)
        self._held_size = 0
        # The temp file is made by the first write(), or by commit() for a body held whole: a
        # small object is then created, written, fsynced and closed in one step (chunkio).
        self._fd = -1
        self._tmp: str | None = None

    def _tmp_path(self) -> str:
        # mkstemp's form: the name is claimed with O_EXCL, so a collision only means another try
        return os.path.join(layout.tmp_dir(self.device_path),
                            f"{self.name_hash}.{_tmp_names.getrandbits(48):012x}.tmp")

    def _create(self, buffers, reserve: int = 0) -> int:
        """The temp file, created with `buffers` in it: flushed and closed when buffers is not
        None, else left open for write(). `reserve` bytes are fallocated first. A spare
        (SparePool) serves when the device has one."""
        try:
            spare = spares.take(self.device_path)
            if spare is None:
                return self._create_new(buffers, reserve)
            fd, self._tmp = spare
            if buffers is not None:
                return chunkio.write_sync_close(fd, buffers, 0, reserve, truncate=True)
            self._fd, self._may_be_longer = fd, True
            if reserve:
                chunkio.fallocate(fd, 0, reserve)
            return 0
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                spares.drop(self.device_path)
            raise

    def _create_new(self, buffers, reserve: int) -> int:
        for _ in range(100):
            self._tmp = self._tmp_path()
            try:
                if buffers is not None:
                    return chunkio.create_synced(self._tmp, buffers, reserve)
                self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                # False where the file system cannot reserve; abort() removes it on ENOSPC
                if reserve and chunkio.fallocate(self._fd, 0, reserve):
                    self._may_be_longer = True
                return 0
            except FileExistsError:
                continue
        self._tmp = None
        raise FileExistsError(errno.EEXIST, "no free temporary file name",
                              layout.tmp_dir(self.device_path))

    def write(self, data) -> None:
        """Append a buffer, or a list of buffers: one pwritev(2) for all of them, so the node
        hands over the chunks it received without joining them into one copy first."""
        self.hold(data)
        if self._fd < 0:
            expected = self.expected_size or 0
            self._create(None, expected if expected >= RESERVE_MIN else 0)
        self.size += chunkio.pwritev(self._fd, self._held, self.size)
        self._held, self._held_size = [], 0

    def hold(self, data) -> None:
        """Hash buffers now and write them with the next write() or with commit()'s trailer:
        a small object's body and trailer then go to the file in one system call."""
        parts = data if isinstance(data, list) else [data]
        update, size = self.hasher.update, 0
        for part in parts:
            update(part)
            size += len(part)
        self._held_size += size
        self._held.extend(parts)

    @property
    def has_temp_file(self) -> bool:
        """Whether abort() has a temp file to remove (none before the first write or commit)."""
        return self._tmp is not None

    @property
    def length(self) -> int:
        """Bytes of body so far, written or held."""
        return self.size + self._held_size

    def commit(self, metadata: dict, timestamp: Timestamp, ext: str) -> str:
        """Make the file visible as <timestamp><ext>; returns its path. Raises ConflictError when
        something at least as new is there, NoObjectError for a .meta without data."""
        self._held.append(metafile.encode(metadata))
        held, self._held = self._held, []
        hash_dir = layout.hash_dir(self.device_path, self.part, self.name_hash, self.policy)
        # One descriptor of the hash directory serves the listing, the rename and the directory
        # fsync; only a missing directory costs the makedirs path (parents fsynced alongside ours).
        dir_fd, parents = _open_dir(hash_dir), []
        if dir_fd < 0:
            parents = makedirs_deferred(hash_dir)
            dir_fd = _open_dir(hash_dir)  # -1 again only if pruned meanwhile: the loop retries
        synced = [_dir_sync_executor().submit(_fsync_dir_if_present, p) for p in parents]
        try:
            # write what is held (body and trailer), fsync, close: one step in the compiled twin
            if self._fd < 0:
                total = self._held_size + len(held[-1])  # body and trailer: exactly the file
                self._create(held, total if total >= RESERVE_MIN else 0)
            else:
                fd, self._fd = self._fd, -1
                # a spare, or a reservation for a body that came short (callers refuse those
                # before the commit), must not leave old bytes or zeros after the trailer
                chunkio.write_sync_close(fd, held, self.size, truncate=self._may_be_longer)
        except BaseException:
            if dir_fd >= 0:
                os.close(dir_fd)
            raise
        finally:
            for job in synced:  # never return (or raise) with a parent fsync still running
                job.result()
        self.size += self._held_size
        self._held_size = 0
        with _lock_for(hash_dir):
            try:
                for _ in range(10):  # the replicator may remove empty directories meanwhile
                    if dir_fd < 0:
                        parents += makedirs_deferred(hash_dir)
                        dir_fd = _open_dir(hash_dir)
                        if dir_fd < 0:
                            continue
                    files = chunkio.listdir(dir_fd)
                    found = layout.choose(files)
                    newest = found.timestamp
                    if ext == layout.META:
                        if found.data is None:
                            raise NoObjectError(newest)
                        if found.meta_timestamp is not None and found.meta_timestamp > newest:
                            newest = found.meta_timestamp
                    if newest is not None and newest >= timestamp:
                        raise ConflictError(newest)
                    final_name = layout.filename(timestamp, ext)
                    late_parents = list(dict.fromkeys(parents[len(synced):]))
                    # superseded files go only once every new directory entry is durable
                    obsolete = () if late_parents else layout.choose(files + [final_name]).obsolete
                    spare = (spares.vacancy(self.device_path)
                             if found.data is not None and found.data in obsolete else None)
                    try:
                        # rename, fsync the directory, unlink the superseded (the data file
                        # kept as a spare when it can be): one step
                        kept = chunkio.rename_synced(
                            self._tmp, dir_fd, final_name, obsolete,
                            (found.data, spare, SPARE_MAX) if spare else None)
                        if kept >= 0:
                            spares.put(self.device_path, kept, spare)
                        break
                    except FileNotFoundError:  # the directory went after we opened it
                        os.close(dir_fd)
                        dir_fd = -1
                else:
                    raise FileNotFoundError(errno.ENOENT, "rename into the hash directory kept failing",
                                            hash_dir)
                self._tmp = None
                if late_parents:  # made after a racing rmdir
                    for parent in late_parents:
                        fsync_dir(parent)
                    for name in layout.choose(files + [final_name]).obsolete:
                        try:
                            os.unlink(name, dir_fd=dir_fd)
                        except OSError:
                            pass
            finally:
                if dir_fd >= 0:
                    os.close(dir_fd)
        return os.path.join(hash_dir, final_name)

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._tmp:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass
            self._tmp = None


def write_empty(device_path: str, part: int, name_hash: str, metadata: dict,
                timestamp: Timestamp, ext: str, policy: int = 0) -> str:
    """A tombstone (.ts) or metadata (.meta) file: the trailer alone."""
    writer = Writer(device_path, part, name_hash, policy)
    try:
        return writer.commit(metadata, timestamp, ext)
    finally:
        writer.abort()


@dataclasses.dataclass
class OpenObject:
    """An open data file: read its data region with read(); close() when done."""

    fd: int
    path: str
    data_length: int
    metadata: dict          # data file metadata with the newer .meta overlaid
    data_timestamp: Timestamp
    timestamp: Timestamp    # newest of data and meta
    prefetched: bytes | None = None  # the whole body of a small file (then fd is already closed)
    verified: tuple | None = None    # (xxh3 hasher, bytes) of the first window, see open_verifying

    def read(self, offset: int, size: int) -> bytes:
        if self.prefetched is not None:
            return self.prefetched[offset:offset + size]
        return os.pread(self.fd, size, offset)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _parse_tail(fd: int, size: int, tail: bytes):
    """(metadata, data length, body) of an open object file from its last min(size, READ_TAIL)
    bytes, already read; body is the data when those bytes are the whole file (small objects),
    else None. fd is read again only for a trailer longer than the tail (never when the tail is
    the whole file)."""
    want = len(tail)
    length = metafile.metadata_length(tail[-metafile.FIXED_TAIL:], size)
    if length + metafile.FIXED_TAIL > want:
        tail = os.pread(fd, length + metafile.FIXED_TAIL, size - length - metafile.FIXED_TAIL)
    metadata, data_length = metafile.parse_tail(tail, size)
    body = tail[:data_length] if want == size and len(tail) == size else None
    return metadata, data_length, body


# Reused, page-aligned buffers for verify_window: a verified GET allocates nothing per chunk.
VERIFY_CHUNK = 1 << 20
_verify_pool = chunkio.BufferPool(VERIFY_CHUNK, 8)  # acquire() maps more when all are out


def verify_window(opened: "OpenObject", offset: int, size: int, hasher) -> int:
    """Read [offset, offset + size) of the data region into pooled buffers, feeding `hasher`;
    returns the bytes read (short only when the file is). The read also leaves the window in
    the page cache, so the sendfile(2) that follows serves it without touching the disk."""
    done = 0
    with _verify_pool.buffer() as buf:
        while done < size:
            want = min(VERIFY_CHUNK, size - done)
            view = buf[:want] if want < VERIFY_CHUNK else buf
            got = chunkio.pread_into(opened.fd, view, offset + done)
            hasher.update(view[:got])
            done += got
            if got < want:
                break
    return done


def open_verifying(device_path: str, part: int, name_hash: str, policy: int, window: int):
    """open_object, then (for a file that was not read whole) verify_window over its first
    `window` bytes in the same executor call: a full GET pays one thread hop before sendfile.
    Returns (opened, found, hasher or None, bytes verified)."""
    opened, found = open_object(device_path, part, name_hash, policy)
    if opened is None or opened.prefetched is not None or opened.data_length == 0:
        return opened, found, None, 0
    hasher = xxhash.xxh3_64()
    try:
        got = verify_window(opened, 0, min(window, opened.data_length), hasher)
    except BaseException:
        opened.close()
        raise
    return opened, found, hasher, got


def open_file(path: str):
    """An object file opened and its trailer read, in one step: (fd, metadata, data length,
    body). A small file comes back whole: body is its data and fd is -1 (closed already); else
    body is None and the caller closes fd, whose shared flock keeps the file from being recycled
    (SparePool) while it is read. FileNotFoundError when the file is gone or being recycled;
    metafile.MetadataError when its trailer is unreadable."""
    fd, size, tail = chunkio.open_tail(path, READ_TAIL)
    try:
        metadata, data_length, body = _parse_tail(fd, size, tail)
    except BaseException:
        _close_if_open(fd)
        raise
    return fd, metadata, data_length, body


def read_file_metadata(path: str) -> tuple[dict, int]:
    fd, metadata, data_length, _ = open_file(path)
    _close_if_open(fd)
    return metadata, data_length


# Keys a POST replaces as a whole (Swift's user metadata and "allowed headers"); system metadata
# (ETag, size, sysmeta) stays with the data file.
POST_KEYS = ("Content-Disposition", "Content-Encoding", "X-Delete-At", "X-Object-Manifest",
             "Cache-Control", "Content-Language", "Expires", "X-Robots-Tag")
POST_PREFIXES = ("X-Object-Meta-", "X-Object-Transient-Sysmeta-")


def is_post_key(key: str) -> bool:
    return key in POST_KEYS or key.startswith(POST_PREFIXES)


def overlay(data_meta: dict, meta_meta: dict) -> dict:
    merged = {k: v for k, v in data_meta.items() if not is_post_key(k)}
    merged.update((k, v) for k, v in meta_meta.items() if k != "name")
    return merged


def open_object(device_path: str, part: int, name_hash: str,
                policy: int = 0) -> tuple[OpenObject | None, layout.FileSet]:
    """The current version, opened; (None, files) when there is none (deleted, absent or bad).

    A file whose trailer is unreadable is quarantined and reported as absent."""
    hash_dir = layout.hash_dir(device_path, part, name_hash, policy)
    for _attempt in range(3):  # a newer write may remove the file between listdir and open
        found = layout.choose(listdir(hash_dir))
        if found.data is None:
            return None, found
        path = os.path.join(hash_dir, found.data)
        try:
            # open, lock, fstat and the tail's read in one step; a small file comes back whole
            fd, metadata, data_length, body = open_file(path)
        except FileNotFoundError:
            continue
        except metafile.MetadataError:
            quarantine(device_path, name_hash, path)
            return None, layout.choose(listdir(hash_dir))
        try:
            timestamp = data_timestamp = found.timestamp  # choose() parsed the name already
            if found.meta:
                try:
                    meta_meta, _ = read_file_metadata(os.path.join(hash_dir, found.meta))
                except FileNotFoundError:
                    _close_if_open(fd)
                    continue
                metadata = overlay(metadata, meta_meta)
                timestamp = found.meta_timestamp
        except metafile.MetadataError:
            _close_if_open(fd)
            quarantine(device_path, name_hash, path)
            return None, layout.choose(listdir(hash_dir))
        except BaseException:
            _close_if_open(fd)
            raise
        return OpenObject(fd, path, data_length, metadata, data_timestamp, timestamp,
                          body), found
    return None, layout.choose(listdir(hash_dir))


def _close_if_open(fd: int) -> None:
    if fd >= 0:
        os.close(fd)


def quarantine(device_path: str, name_hash: str, path: str) -> str | None:
    """Move a bad file out of the hash directory, so the replicator restores a good copy."""
    top = os.path.relpath(path, device_path).split(os.sep, 1)[0]  # objects or objects-N
    qdir = layout.quarantine_dir(device_path, layout.policy_of_dir(top) or 0)
    os.makedirs(qdir, exist_ok=True)
    target = os.path.join(qdir, f"{name_hash}-{os.path.basename(path)}-{time.time():.6f}")
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    return target


def hash_suffix(device_path: str, part: int, suffix: str, reclaim_before: float = 0.0,
                policy: int = 0) -> str | None:
    """Digest of the suffix's current files; cleans obsolete files and tombstones older than
    reclaim_before (epoch seconds) on the way. None when the suffix is empty (and removed)."""
    suffix_dir = os.path.join(layout.partition_dir(device_path, part, policy), suffix)
    entries = []
    for name_hash in listdir(suffix_dir):
        hash_dir = os.path.join(suffix_dir, name_hash)
        found = layout.choose(listdir(hash_dir))
        remove = list(found.obsolete)
        if found.tombstone and found.timestamp.seconds < reclaim_before:
            remove.append(found.tombstone)
        for name in remove:
            try:
                os.unlink(os.path.join(hash_dir, name))
            except OSError:
                pass
        keep = [n for n in (found.data, found.tombstone, found.meta) if n and n not in remove]
        if keep:
            entries.append((name_hash, keep))
        else:
            _rmdir_quiet(hash_dir)
    if not entries:
        _rmdir_quiet(suffix_dir)
        return None
    return layout.suffix_hash(entries)


def partition_hashes(device_path: str, part: int, reclaim_before: float = 0.0,
                     policy: int = 0) -> dict[str, str]:
    hashes = {}
    for suffix in listdir(layout.partition_dir(device_path, part, policy)):
        digest = hash_suffix(device_path, part, suffix, reclaim_before, policy)
        if digest is not None:
            hashes[suffix] = digest
    return hashes


def hash_partitions(device_path: str, work: dict[int, list[str] | None],
                    reclaim_before: float = 0.0, policy: int = 0
                    ) -> dict[int, dict[str, str | None]]:
    """Many partitions' digests in one call, so a REPLICATE batch costs one executor hop, not one
    per suffix. work maps a partition to None (hash all of it: its whole {suffix: digest}) or to
    the suffixes to rehash ({suffix: digest, or None for a suffix that is now empty})."""
    out: dict[int, dict[str, str | None]] = {}
    for part, suffixes in work.items():
        if suffixes is None:
            out[part] = dict(partition_hashes(device_path, part, reclaim_before, policy))
        else:
            out[part] = {suffix: hash_suffix(device_path, part, suffix, reclaim_before, policy)
                         for suffix in suffixes}
    return out


def remove_if_current(device_path: str, part: int, name_hash: str, files: list[str],
                      policy: int = 0) -> bool:
    """Delete an object's files if they are still exactly its current ones (a handoff's copy
    after the primaries took it); a newer write in between keeps everything."""
    hash_dir = layout.hash_dir(device_path, part, name_hash, policy)
    with _lock_for(hash_dir):
        names = listdir(hash_dir)
        found = layout.choose(names)
        current = [n for n in (found.data, found.tombstone, found.meta) if n]
        if sorted(current) != sorted(files):
            return False
        for name in names:
            try:
                os.unlink(os.path.join(hash_dir, name))
            except OSError:
                pass
        _rmdir_quiet(hash_dir)
    return True


def prune_partition(device_path: str, part: int, policy: int = 0) -> None:
    """Remove the partition's empty suffix directories, then the partition if it is empty."""
    part_dir = layout.partition_dir(device_path, part, policy)
    for suffix in listdir(part_dir):
        _rmdir_quiet(os.path.join(part_dir, suffix))
    _rmdir_quiet(part_dir)


def _rmdir_quiet(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
            raise
