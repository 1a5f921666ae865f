# The sandtrace trace file format (DESIGN.md §3).
#
# File layout
# -----------
# A trace file is a sequence of independent zstd frames, each with a content
# checksum and its decompressed size in the frame header, followed by one
# zstd skippable frame holding the seek index (layout at the end of this
# file). Decompressed and concatenated, the data frames form a standard,
# unpacked Cap'n Proto message stream whose every root is a `Record`, so
# stock Debian tools print a whole trace:
#
#   zstd -dc trace.capnp | capnp decode formats/trace.capnp Record
#
# (`zstd -dc` skips the skippable index frame.) A record never spans two
# zstd frames, so every frame can be decoded on its own and a writer killed
# mid-run loses at most the frame it had not yet written.
#
# Identification: zstd frames carry no custom magic, so the FIRST record of
# every trace is a `Header` whose `magic` equals `traceMagic`; a reader
# refuses any file whose first record is not such a header. A cleanly
# finished trace ends with a `Footer` whose `cleanEnd` is true.
#
# Evolution (append-only)
# -----------------------
# - Never renumber, retype, rename-with-new-meaning or remove a field, union
#   member or enumerant. New ones take the next free ordinal. A field that
#   is no longer written keeps its ordinal (rename it `fooObsolete`).
# - Every enum starts with `unknown @0` and every union's first member is
#   `unknown` (or the obvious zero state), so a zeroed or newer-than-known
#   value reads as "unknown" instead of as a wrong valid value. Readers map
#   enumerants and union members they do not know to unknown, and skip
#   whole records of a kind they do not know.
# - Header.formatVersion is bumped with every schema change. When a change
#   means an older reader would misread a trace (not merely miss new data),
#   Header.minReaderVersion is raised to the new formatVersion as well;
#   readers refuse traces whose minReaderVersion exceeds their own version.
#   History: 1 = initial format; 2 = delta-coded seq, id and receivedNs
#   within a frame; 3 = TraceeCall.hostCall and addWatch (older readers
#   replay such calls as unknown ones).
#
# Conventions: paths, argv, env entries and memory contents are `Data`
# (arbitrary bytes, not necessarily UTF-8). Times are nanoseconds of
# CLOCK_MONOTONIC unless a name says otherwise. errno values are positive;
# 0 means success.

@0xb1c9056215b7d163;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("sandtrace::schema");

const traceMagic :UInt64 = 0x4543415254444e53;  # "SNDTRACE" in little-endian bytes
const formatVersion :UInt32 = 3;

struct Record {
  union {
    unknown @0 :Void;
    header @1 :Header;
    event @2 :Event;
    process @3 :ProcessEvent;
    cow @4 :CowEvent;
    snapshot @5 :SnapshotChunk;
    footer @6 :Footer;
  }
}

# ---------------------------------------------------------------- header

struct Header {
  magic @0 :UInt64;             # must equal traceMagic
  formatVersion @1 :UInt32;     # the format this trace was written in
  minReaderVersion @2 :UInt32;  # oldest reader format version that can read it
  toolVersion @3 :Text;         # sandtrace version that wrote it
  kernelRelease @4 :Text;       # uname -r
  features @5 :List(Feature);   # seccomp / Landlock features found and used
  arch @6 :UInt32;              # AUDIT_ARCH_* of the traced command
  argv @7 :List(Data);          # the traced command line
  envRecorded @8 :Bool;         # false: `env` was not recorded (not "empty")
  env @9 :List(Data);           # "NAME=value" entries
  cwd @10 :Data;                # working directory of the command
  workdir @11 :Data;            # the copy-on-write workdir
  policy @12 :Policy;
  handlerSets @13 :List(Text);  # names of the handler sets installed
  snapshotMode @14 :SnapshotMode;
  snapshotHash @15 :Text;       # algorithm of SnapshotEntry.contentHash, e.g. "xxh128"
  startRealtimeNs @16 :Int64;   # CLOCK_REALTIME at start, for display only
  startMonotonicNs @17 :UInt64; # CLOCK_MONOTONIC at start
}

# A kernel or library capability: what the machine offered and what the run
# used, e.g. ("landlock.abi", 7, 4), ("seccomp.addfd", 1, 1).
struct Feature {
  name @0 :Text;
  found @1 :Int64;
  used @2 :Int64;
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct Policy {
  readPaths @0 :List(Data);
  writePaths @1 :List(Data);
  quotaBytes @2 :UInt64;        # 0 = no quota
  seed @3 :UInt64;
  disposition @4 :Disposition;
  options @5 :List(KeyValue);   # everything else, as given on the command line
}

# What happens to the upper layer when the command exits.
enum Disposition {
  unknown @0;
  commitOnSuccess @1;  # commit on exit status 0, discard otherwise
  commit @2;
  discard @3;
  dryRun @4;
}

enum SnapshotMode {
  unknown @0;
  none @1;      # no snapshot: replay needs the original workdir
  metadata @2;  # entries only, no file contents
  full @3;      # entries and contents: hermetic replay
}

# ---------------------------------------------------------------- event

# One seccomp user notification and everything the supervisor did for it.
# From format version 2, seq, id and receivedNs are stored as differences
# (modulo 2^64) from the same fields of the previous Event in the same zstd
# frame; the first Event of a frame holds the values themselves. They grow by
# small steps, so their differences compress to almost nothing. A reader
# restarts from zero at every frame (so any frame decodes on its own, and a
# record converted on its own, as in JSON, holds absolute values). Version 1
# traces store all three as absolute values.
struct Event {
  seq @0 :UInt64;             # sandtrace's sequence number, from 0, in receive order
  id @1 :UInt64;              # the kernel's notification cookie
  tid @2 :UInt32;
  arch @3 :UInt32;            # AUDIT_ARCH_* from seccomp_data.arch
  nr @4 :Int32;               # syscall number in that arch
  ip @5 :UInt64;
  args @6 :List(UInt64);      # always six
  # When NOTIF_RECV returned, the handler started and ended, and NOTIF_SEND
  # (or ADDFD+SEND) returned. The last three are stored as differences from
  # the previous one (modulo 2^64), which compress far better than absolute
  # times: handlerStart = receivedNs + handlerStartDeltaNs, and so on.
  receivedNs @7 :UInt64;
  handlerStartDeltaNs @8 :UInt64;
  handlerEndDeltaNs @9 :UInt64;
  responseSentDeltaNs @10 :UInt64;
  calls @11 :List(TraceeCall);  # in the order the handler made them

  decision :union {
    unknown @12 :Void;
    continue @13 :Void;         # SECCOMP_USER_NOTIF_FLAG_CONTINUE
    returnValue @14 :Int64;     # the syscall returns this value
    errno @15 :Int32;           # the syscall fails with this (positive) errno
    injectFd @16 :InjectedFd;   # ADDFD + SEND; the syscall returns the new fd
    restartWith @20 :RestartWith; # the child enters the syscall again, one argument changed
  }

  outcome @17 :ResponseOutcome;

  # Set when this notification is the kernel re-issuing a syscall whose
  # earlier notification was interrupted (by a signal) before the response.
  restart :union {
    none @18 :Void;
    ofSeq @19 :UInt64;          # seq of the interrupted notification
  }
}

# Decision.restartWith: the supervisor answered -ERESTARTNOINTR and, with the
# thread stopped by ptrace, set one argument register, so the kernel re-enters
# the syscall (and a new notification follows). Used to exec a file of the
# view by a path too short, or read-only, to rewrite in place.
struct RestartWith {
  arg @0 :UInt8;            # argument index, 0-5
  value @1 :UInt64;         # its new value
  fallbackErrno @2 :Int32;  # what the syscall failed with if that was impossible
  arg2 @3 :Int8 = -1;       # a second argument changed at once, or -1
  value2 @4 :UInt64;
}

# One call a handler made through the Tracee seam (tracer/core/tracee.h),
# with its result. `errno` 0 means success and the result fields are valid.
struct TraceeCall {
  union {
    unknown @0 :Void;
    readMemory :group {
      address @1 :UInt64;
      length @2 :UInt64;        # bytes asked for
      bytes @3 :Data;           # bytes returned (may be fewer)
      errno @4 :Int32;
    }
    readString :group {
      address @5 :UInt64;
      maxLength @6 :UInt64;     # including the NUL
      bytes @7 :Data;           # without the NUL
      errno @8 :Int32;
    }
    readProcLink :group {
      link @9 :ProcLink;
      fd @10 :Int32;            # for link = fd only
      target @11 :Data;
      errno @12 :Int32;
    }
    readUmask :group {
      umask @13 :UInt32;
      errno @14 :Int32;
    }
    idValid :group {
      valid @15 :Bool;
    }
    writeMemory :group {
      address @16 :UInt64;
      bytes @17 :Data;          # what the handler wrote
      written @18 :UInt64;      # bytes actually written
      errno @19 :Int32;
    }
    # Added for the COW handlers before the first release (format 1).
    readProcIds :group {
      tgid @20 :Int32;          # /proc/<tid>/status Tgid
      ppid @21 :Int32;          # ... PPid
      startTime @22 :UInt64;    # /proc/<tgid>/stat field 22, clock ticks since boot
      errno @23 :Int32;
    }
    seekFd :group {
      fd @24 :Int32;            # the child's fd
      offset @25 :Int64;        # as asked
      whence @26 :Int32;        # SEEK_SET, SEEK_CUR, SEEK_END
      result @27 :Int64;        # the resulting offset
      errno @28 :Int32;
    }
    installFd :group {
      file @29 :InjectedFd;     # what was installed (ADDFD without SEND); fd = the
                                # number the child got, -1 on error
      errno @30 :Int32;
    }
    readStackPointer :group {
      stackPointer @31 :UInt64; # the blocked thread's user stack pointer
      errno @32 :Int32;
    }
    # The child's socket bound to / connected to a socket file in the view
    # (bind and connect of AF_UNIX paths into the workdir).
    bindSocket :group {
      fd @33 :Int32;            # the child's socket
      name @34 :Data;           # the file's name in its (upper) directory
      mode @35 :UInt32;         # the new file's mode
      errno @36 :Int32;
      address @40 :Data;        # the address the kernel stores for the socket
                                # (the child's relative path); empty: a
                                # /proc/self/fd path (traces before it: empty)
    }
    connectSocket :group {
      fd @37 :Int32;
      name @38 :Data;           # the socket file's name in its directory
      errno @39 :Int32;
    }
    # The first bytes of a file the supervisor opened (an executable's #!
    # line): the child may have written them, and replay has no child.
    readFileHead :group {
      length @41 :UInt64;       # the most asked for
      bytes @42 :Data;          # what was read (fewer at the end of the file)
      errno @43 :Int32;
    }
    # A handler's own call on the host, outside the workdir (an object the
    # child reaches through a symlink made in the run), with what it found:
    # replay answers it from here, so the outcome does not depend on the
    # replaying machine's files (format 3).
    hostCall :group {
      op @44 :HostOp;
      path @45 :Data;           # the absolute path asked about
      arg @46 :Int64;           # op-specific (see HostOp)
      result @47 :Data;         # op-specific (see HostOp)
      errno @48 :Int32;
    }
    # An inotify watch on an object of the view that lives in the upper
    # layer (made or changed in the run), added to the child's inotify
    # instance (format 3).
    addWatch :group {
      fd @49 :Int32;            # the child's inotify fd
      path @50 :Data;           # the upper object's path (in the storage area)
      mask @51 :UInt32;
      wd @52 :Int32;            # the watch descriptor
      errno @53 :Int32;
    }
  }
}

enum HostOp {
  unknown @0;
  stat @1;      # statx; arg: follow (1) or not; result: the kernel's struct
                # statx (256 bytes, little-endian)
  access @2;    # faccessat; arg: mode | its AT_ flags; result: empty
  readlink @3;  # arg: 0; result: the link's target
  reach @4;     # the object an open or a metadata change reaches (its entry
                # in its directory when it is to be created); arg: follow
                # (bit 0), create (bit 1); result: its canonical path, NUL,
                # the entry's name when it is to be created (else nothing),
                # NUL, then "r" and/or "w" when the run's policy lets the
                # child read and/or write there
  open @5;      # the open of what `reach` found; arg: open flags; result:
                # empty (replay installs a stand-in file)
  change @6;    # a metadata change where the child may write; arg: the
                # change (chmod 1, chown 2, utimens 3, setxattr 4,
                # removexattr 5); result: empty (replay does not make it)
}

enum ProcLink {
  unknown @0;
  cwd @1;   # /proc/<tid>/cwd
  fd @2;    # /proc/<tid>/fd/<fd>
  root @3;  # /proc/<tid>/root
  exe @4;   # /proc/<tid>/exe
}

# A file the supervisor opened and installed in the child.
struct InjectedFd {
  root @0 :FileRoot;
  path @1 :Data;        # relative to root ("" = the root itself); absolute for outside
  openFlags @2 :Int32;  # flags the supervisor opened it with
  fdFlags @3 :UInt32;   # O_CLOEXEC or 0, as the child asked
  fd @4 :Int32;         # the fd number the child got (-1 if ADDFD failed)
  waits @5 :Bool;       # decisions only: the file is a FIFO that waits for its
                        # other end; the supervisor opened it on a thread of
                        # its own and answered when that open returned (the
                        # event's outcome is then `waiting`, fd -1)
}

enum FileRoot {
  unknown @0;
  upper @1;
  lower @2;
  outside @3;  # not under the workdir
}

enum ResponseOutcome {
  unknown @0;
  sent @1;         # the response was delivered
  targetGone @2;   # the child died or the notification was no longer valid (ENOENT)
  interrupted @3;  # a signal interrupted the syscall; it may come back (see Event.restart)
  failed @4;       # the send failed otherwise
  waiting @5;      # handed to a waiter thread (injectFd.waits): answered later
}

# ---------------------------------------------------------------- process

struct ProcessEvent {
  kind @0 :ProcessEventKind;
  pid @1 :UInt32;
  parentPid @2 :UInt32;
  execPath @3 :Data;       # spawn, exec
  argv @4 :List(Data);     # spawn, exec
  exitStatus @5 :Int32;    # exit: the exit status when signal = 0
  signal @6 :Int32;        # exit: the signal that killed it, or 0
  timestampNs @7 :UInt64;
}

enum ProcessEventKind {
  unknown @0;
  spawn @1;  # the traced command itself was started
  fork @2;   # fork, vfork or clone of a new process
  exec @3;
  exit @4;
}

# ---------------------------------------------------------------- cow

# Something the copy-on-write engine did, for `trace dump` and diagnostics.
struct CowEvent {
  kind @0 :CowEventKind;
  path @1 :Data;            # relative to the workdir
  detail @2 :Data;          # kind-specific, e.g. the rename target or a reason
  cause :union {
    none @3 :Void;
    eventSeq @4 :UInt64;    # the Event that triggered it
  }
  timestampNs @5 :UInt64;
}

enum CowEventKind {
  unknown @0;
  copyUp @1;
  whiteout @2;
  create @3;
  rename @4;
  commit @5;       # the commit started (path empty) or committed `path`
  discard @6;
  change @7;       # one change-list entry (detail: "A", "M" or "D")
  quota @8;        # the quota refused an operation
}

# ---------------------------------------------------------------- snapshot

# A piece of the workdir snapshot: the lower layer as the command saw it
# (enough to rebuild it for a hermetic replay). A snapshot is any number of
# chunks, anywhere after the header; `trace record` writes them after the
# last event and before the footer, since it snapshots only the lower paths
# the run consulted (the workdir does not change until commit). File
# contents are deduplicated: an entry names its content by hash and the
# bytes appear once, in a Blob, in this or an earlier chunk. A large
# content is split into several Blobs with the same hash and increasing
# offsets.
struct SnapshotChunk {
  entries @0 :List(SnapshotEntry);
  blobs @1 :List(Blob);
}

struct SnapshotEntry {
  path @0 :Data;           # relative to the workdir; "" = the workdir itself
  type @1 :FileType;
  mode @2 :UInt32;         # permission bits (st_mode & 07777)
  uid @3 :UInt32;
  gid @4 :UInt32;
  size @5 :UInt64;
  mtimeNs @6 :Int64;       # since the epoch
  symlinkTarget @7 :Data;
  contentHash @8 :Data;    # empty: contents not recorded
  rdev @9 :UInt64;         # devices only
}

enum FileType {
  unknown @0;
  regular @1;
  directory @2;
  symlink @3;
  fifo @4;
  socket @5;
  charDevice @6;
  blockDevice @7;
}

struct Blob {
  hash @0 :Data;
  offset @1 :UInt64;  # where `bytes` start within the content
  bytes @2 :Data;
}

# ---------------------------------------------------------------- footer

struct Footer {
  totals @0 :Totals;
  exitStatus @1 :Int32;     # of the traced command, when signal = 0
  signal @2 :Int32;         # the signal that killed it, or 0
  changes @3 :List(Change); # what the run changed in the workdir
  cleanEnd @4 :Bool;        # the recorder finished normally
  endNs @5 :UInt64;
}

# Counted by the writer over every record before the footer.
struct Totals {
  records @0 :UInt64;
  events @1 :UInt64;
  processEvents @2 :UInt64;
  cowEvents @3 :UInt64;
  snapshotChunks @4 :UInt64;
  decisionsContinue @5 :UInt64;
  decisionsReturn @6 :UInt64;
  decisionsErrno @7 :UInt64;
  decisionsInjectFd @8 :UInt64;
  decisionsUnknown @9 :UInt64;
  recordBytes @10 :UInt64;      # uncompressed Cap'n Proto bytes
  compressedBytes @11 :UInt64;  # zstd bytes in the frames written before the footer's
  decisionsRestart @12 :UInt64;
}

struct Change {
  kind @0 :ChangeKind;
  path @1 :Data;  # relative to the workdir
}

enum ChangeKind {
  unknown @0;
  added @1;
  modified @2;
  deleted @3;
}

# ---------------------------------------------------------------- seek index
#
# Not a Cap'n Proto message: the last bytes of the file are one zstd
# skippable frame (magic 0x184D2A5E, then the little-endian u32 size of the
# payload), whose payload is, all little-endian:
#
#   entries[count], 48 bytes each, in file order. An entry covers one data
#   frame, or a run of consecutive frames when a very long trace made the
#   writer coarsen its index to keep its memory bounded:
#     u64 offset         file offset of the first frame's first byte
#     u64 size           compressed size of the frame(s) in bytes
#     u64 firstSeq       seq of the first Event in the frame(s) (if hasEvents)
#     u64 lastSeq        seq of the last Event in the frame(s) (if hasEvents)
#     u64 firstTimeNs    time of the frame's first timestamped record, or 0
#     u32 records        records in the frame(s)
#     u16 frames         consecutive data frames the entry covers (>= 1)
#     u16 flags          bit 0: hasEvents
#   trailer, 24 bytes:
#     u32 count
#     u32 indexVersion   1
#     u64 checksum       FNV-1a 64 over the entries, count and indexVersion
#     u64 indexMagic     "SNDTIDX1" (0x3158444954444e53)
#
# A reader finds it from the end of the file; when it is absent, truncated
# or fails its checksum, readers scan the frames from the start instead.
