#include "replay/inspect/diff.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "replay/inspect/normalise.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::inspect {
namespace {

constexpr uint64_t kCowStream = UINT64_MAX;

struct Item {
  trace::Record record;   // an EventRecord, ProcessRecord or CowRecord
  uint64_t position = 0;  // record number in its file
  size_t key = 0;         // hash of what must agree for two items to align
};

struct Stream {
  std::deque<Item> a, b;
};

size_t KeyOf(const trace::Record& record) {
  std::string key;
  if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
    key = "e" + std::to_string(e->arch) + ":" + std::to_string(e->nr);
    const ArchTable* table = ArchTableFor(e->arch);
    const SyscallDef* def = table ? table->FindByNr(e->nr) : nullptr;
    for (int i = 0; def != nullptr && i < def->nargs(); ++i) {
      if (def->args[i] != ArgRole::kPath) continue;
      key += '\0';
      if (auto s = ArgString(*e, i)) key += *s;
    }
  } else if (const auto* p = std::get_if<trace::ProcessRecord>(&record)) {
    // The kind only: the connector may miss an exec path (a short-lived
    // process), which Compare() tolerates.
    key = "p" + std::to_string(static_cast<int>(p->kind));
  } else if (const auto* c = std::get_if<trace::CowRecord>(&record)) {
    key = "c" + std::to_string(static_cast<int>(c->kind)) + ":" + c->path;
  }
  return std::hash<std::string>{}(key);
}

// The stream id of every thread of both traces: paired threads share one.
struct ThreadIds {
  std::unordered_map<uint32_t, uint64_t> a, b;
  uint64_t next = 0;
};

// What identifies a thread across runs: its process's exec path and its
// first few syscalls (with their paths).
struct ThreadSig {
  uint32_t tid = 0;
  uint64_t first = 0;  // position of its first record, for the order
  std::string exec;
  std::vector<size_t> keys;
};
constexpr size_t kSigEvents = 8;

// Reads a trace once, collecting each thread's signature; then rewinds it.
Result<std::vector<ThreadSig>> Signatures(trace::TraceReader& reader) {
  std::unordered_map<uint32_t, size_t> index;
  std::vector<ThreadSig> sigs;
  auto sig_of = [&](uint32_t tid, uint64_t position) -> ThreadSig& {
    auto [it, inserted] = index.try_emplace(tid, sigs.size());
    if (inserted) sigs.push_back({tid, position, {}, {}});
    return sigs[it->second];
  };
  trace::Record record;
  uint64_t position = 0;
  while (true) {
    auto more = reader.Next(record);
    if (!more.ok()) return more.error();
    if (!*more) break;
    ++position;
    if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
      ThreadSig& sig = sig_of(e->tid, position);
      if (sig.keys.size() < kSigEvents) sig.keys.push_back(KeyOf(record));
    } else if (const auto* p = std::get_if<trace::ProcessRecord>(&record)) {
      ThreadSig& sig = sig_of(p->pid, position);
      if (p->kind == trace::ProcessEventKind::kExec && sig.exec.empty()) sig.exec = p->exec_path;
    }
  }
  if (Status s = reader.Rewind(); !s.ok()) return s.error();
  return sigs;
}

// Pairs the threads of A and B: first those whose signatures agree (in
// order of first appearance), then the rest by order of first appearance.
Result<ThreadIds> PairThreads(trace::TraceReader& a, trace::TraceReader& b) {
  auto sa = Signatures(a);
  if (!sa.ok()) return sa.error();
  auto sb = Signatures(b);
  if (!sb.ok()) return sb.error();
  ThreadIds ids;
  std::vector<bool> used(sb->size(), false);
  std::vector<bool> paired(sa->size(), false);
  for (size_t i = 0; i < sa->size(); ++i) {
    const ThreadSig& x = (*sa)[i];
    for (size_t j = 0; j < sb->size(); ++j) {
      const ThreadSig& y = (*sb)[j];
      if (used[j] || x.keys != y.keys || x.exec != y.exec) continue;
      used[j] = paired[i] = true;
      ids.a[x.tid] = ids.b[y.tid] = ids.next++;
      break;
    }
  }
  size_t j = 0;
  for (size_t i = 0; i < sa->size(); ++i) {
    if (paired[i]) continue;
    while (j < sb->size() && used[j]) ++j;
    ids.a[(*sa)[i].tid] = ids.next;
    if (j < sb->size()) {
      used[j] = true;
      ids.b[(*sb)[j].tid] = ids.next;
    }
    ++ids.next;
  }
  for (size_t k = 0; k < sb->size(); ++k) {
    if (!used[k]) ids.b[(*sb)[k].tid] = ids.next++;
  }
  return ids;
}

bool ScalarRole(ArgRole role) {
  switch (role) {
    case ArgRole::kInt:
    case ArgRole::kUint:
    case ArgRole::kFd:
    case ArgRole::kDirFd:
    case ArgRole::kOpenFlags:
    case ArgRole::kMode:
    case ArgRole::kAtFlags:
    case ArgRole::kSize:
    case ArgRole::kSignal:
    case ArgRole::kCloneFlags:
    case ArgRole::kProt:
    case ArgRole::kMmapFlags:
    case ArgRole::kFcntlCmd:
      return true;
    default:
      return false;  // addresses and pids vary from run to run
  }
}

std::string DescribeFile(const trace::InjectedFileRecord& f) {
  char flags[64];
  std::snprintf(flags, sizeof flags, " fd %d open flags %#x fd flags %#x", f.fd,
                static_cast<unsigned>(f.open_flags), f.fd_flags);
  return std::string(trace::Name(f.root)) + " " + Quote(f.path) + flags;
}

std::string DescribeCall(const trace::TraceeCall& c) {
  std::string out(trace::Name(c.kind));
  switch (c.kind) {
    case trace::TraceeCallKind::kReadMemory:
      out += " " + std::to_string(c.length) + " bytes";
      break;
    case trace::TraceeCallKind::kReadProcLink:
      out += std::string(" ") + std::string(trace::Name(c.link));
      if (c.link == trace::ProcLink::kFd) out += " " + std::to_string(c.fd);
      break;
    case trace::TraceeCallKind::kReadUmask: {
      char buf[16];
      std::snprintf(buf, sizeof buf, " %04" PRIo64, c.result);
      out += buf;
      break;
    }
    case trace::TraceeCallKind::kIdValid:
      out += c.result ? " valid" : " invalid";
      break;
    case trace::TraceeCallKind::kWriteMemory:
      out += " wrote " + std::to_string(c.result);
      break;
    case trace::TraceeCallKind::kReadProcIds:
      out += " tgid " + std::to_string(c.tgid) + " ppid " + std::to_string(c.ppid);
      break;
    case trace::TraceeCallKind::kSeekFd:
      out += " fd " + std::to_string(c.fd) + " offset " + std::to_string(c.offset) + " whence " +
             std::to_string(c.whence) + " -> " + std::to_string(static_cast<int64_t>(c.result));
      break;
    case trace::TraceeCallKind::kInstallFd:
      out += " " + DescribeFile(c.file);
      break;
    case trace::TraceeCallKind::kBindSocket:
    case trace::TraceeCallKind::kConnectSocket:
      out += " fd " + std::to_string(c.fd);
      break;
    case trace::TraceeCallKind::kHostCall:
      out += " " + std::string(trace::Name(c.host_op)) + " " + Quote(c.address, 48) + " " +
             std::to_string(c.offset);
      break;
    default:
      break;
  }
  if (c.error != 0) {
    const char* name = strerrorname_np(c.error);
    out += std::string(" error ") + (name ? name : std::to_string(c.error));
  } else if (!c.bytes.empty()) {
    out += " " + Quote(c.bytes, 48);
  }
  return out;
}

// The run-specific directories of a trace (its workdir and the storage area
// of the upper layer, from the policy options), replaced by placeholders
// before bytes are compared, so two runs in different places still match.
struct RunDirs {
  std::string workdir;
  std::string storage;
  std::string tmpdir;  // the private TMPDIR (traces from format 3 name it)

  static RunDirs Of(const trace::HeaderRecord& h) {
    RunDirs d;
    d.workdir = h.workdir;
    for (const auto& kv : h.policy.options) {
      if (kv.key == "storage") d.storage = kv.value;
      if (kv.key == "tmpdir") d.tmpdir = kv.value;
    }
    return d;
  }

  // Replaces `dir` where it is a whole leading path (followed by '/', NUL
  // or the end) anywhere in `bytes`.
  static void Replace(std::string& bytes, const std::string& dir, std::string_view with) {
    if (dir.size() < 2) return;  // "" or "/": nothing run-specific
    for (size_t at = bytes.find(dir); at != std::string::npos; at = bytes.find(dir, at)) {
      const size_t end = at + dir.size();
      if (end == bytes.size() || bytes[end] == '/' || bytes[end] == '\0') {
        bytes.replace(at, dir.size(), with);
        at += with.size();
      } else {
        at = end;
      }
    }
  }

  std::string Normalise(std::string bytes) const {
    // The storage area first: it may lie inside the workdir's parent.
    Replace(bytes, storage, "$STORAGE");
    Replace(bytes, tmpdir, "$TMPDIR");
    Replace(bytes, workdir, "$WORKDIR");
    return bytes;
  }
};

class Differ {
 public:
  Differ(const DiffOptions& options, DiffSummary& summary, ThreadIds ids, RunDirs dirs_a,
         RunDirs dirs_b)
      : thread_ids_(std::move(ids)),
        dirs_a_(std::move(dirs_a)),
        dirs_b_(std::move(dirs_b)),
        options_(options),
        summary_(summary),
        text_(options.text) {}

  // Events and process events of a thread form two streams, so that the
  // process-events connector's timing (asynchronous to the syscalls) does
  // not misalign them.
  uint64_t StreamOf(const trace::Record& record, bool side_a) {
    uint32_t tid = 0;
    uint64_t kind = 0;
    if (const auto* e = std::get_if<trace::EventRecord>(&record)) {
      tid = e->tid;
    } else if (const auto* p = std::get_if<trace::ProcessRecord>(&record)) {
      tid = p->pid;
      kind = 1;
    } else {
      return kCowStream;
    }
    if (!options_.map_tids) return uint64_t{tid} * 2 + kind;
    auto& ids = side_a ? thread_ids_.a : thread_ids_.b;
    auto it = ids.find(tid);
    if (it == ids.end()) {
      // A thread the pre-pass did not see (it cannot happen with the same
      // files, but stay total): a stream of its own.
      it = ids.emplace(tid, thread_ids_.next++).first;
    }
    return it->second * 2 + kind;
  }

  void Push(trace::Record&& record, uint64_t position, bool side_a) {
    const uint64_t id = StreamOf(record, side_a);
    Stream& s = streams_[id];
    Item item{std::move(record), position, 0};
    item.key = KeyOf(item.record);
    (side_a ? s.a : s.b).push_back(std::move(item));
    ++(side_a ? buffered_a_ : buffered_b_);
    Resolve(s, false);
    if (buffered_a_ + buffered_b_ > options_.max_buffered) {
      // Too much is waiting for a counterpart: settle the fullest stream.
      auto fullest = std::max_element(streams_.begin(), streams_.end(), [](auto& x, auto& y) {
        return x.second.a.size() + x.second.b.size() < y.second.a.size() + y.second.b.size();
      });
      Resolve(fullest->second, true);
    }
  }

  void SetDone(bool side_a) {
    (side_a ? done_a_ : done_b_) = true;
    for (auto& [id, s] : streams_) Resolve(s, false);
  }

  void Finish() {
    for (auto& [id, s] : streams_) Resolve(s, true);
  }

  bool done_a() const { return done_a_; }
  bool done_b() const { return done_b_; }
  size_t buffered_a() const { return buffered_a_; }
  size_t buffered_b() const { return buffered_b_; }

 private:
  void Pop(Stream& s, bool side_a) {
    (side_a ? s.a : s.b).pop_front();
    --(side_a ? buffered_a_ : buffered_b_);
  }

  void Resolve(Stream& s, bool final) {
    const size_t w = options_.window;
    while (true) {
      if (s.a.empty() || s.b.empty()) {
        while (!s.a.empty() && (final || done_b_)) {
          ReportOnly(s.a.front(), true);
          Pop(s, true);
        }
        while (!s.b.empty() && (final || done_a_)) {
          ReportOnly(s.b.front(), false);
          Pop(s, false);
        }
        return;
      }
      if (s.a.front().key == s.b.front().key) {
        Compare(s.a.front(), s.b.front());
        Pop(s, true);
        Pop(s, false);
        continue;
      }
      const bool enough_a = final || done_a_ || s.a.size() > w;
      const bool enough_b = final || done_b_ || s.b.size() > w;
      if (!enough_a || !enough_b) return;  // wait for more lookahead
      // The nearest point where both streams agree again.
      std::optional<std::pair<size_t, size_t>> best;
      const size_t na = std::min(s.a.size(), w + 1), nb = std::min(s.b.size(), w + 1);
      for (size_t sum = 1; sum < na + nb - 1 && !best; ++sum) {
        for (size_t i = sum >= nb ? sum - nb + 1 : 0; i <= std::min(sum, na - 1); ++i) {
          const size_t j = sum - i;
          if (s.a[i].key == s.b[j].key) {
            best = {i, j};
            break;
          }
        }
      }
      const auto [skip_a, skip_b] = best.value_or(std::pair<size_t, size_t>{1, 1});
      // Skipped items facing each other with the same syscall are compared
      // (a changed path is then a payload difference); the rest are unmatched.
      size_t paired = 0;
      while (paired < std::min(skip_a, skip_b) && SameKind(s.a.front(), s.b.front())) {
        Compare(s.a.front(), s.b.front());
        Pop(s, true);
        Pop(s, false);
        ++paired;
      }
      for (size_t i = paired; i < skip_a; ++i) {
        ReportOnly(s.a.front(), true);
        Pop(s, true);
      }
      for (size_t j = paired; j < skip_b; ++j) {
        ReportOnly(s.b.front(), false);
        Pop(s, false);
      }
    }
  }

  static bool SameKind(const Item& a, const Item& b) {
    if (a.record.index() != b.record.index()) return false;
    const auto* ea = std::get_if<trace::EventRecord>(&a.record);
    const auto* eb = std::get_if<trace::EventRecord>(&b.record);
    if (ea && eb) return ea->arch == eb->arch && ea->nr == eb->nr;
    const auto* pa = std::get_if<trace::ProcessRecord>(&a.record);
    const auto* pb = std::get_if<trace::ProcessRecord>(&b.record);
    if (pa && pb) return pa->kind == pb->kind;
    const auto* ca = std::get_if<trace::CowRecord>(&a.record);
    const auto* cb = std::get_if<trace::CowRecord>(&b.record);
    return ca && cb && ca->kind == cb->kind;
  }

  std::string Where(const Item& a, const Item* b) {
    std::string out;
    const auto* ea = std::get_if<trace::EventRecord>(&a.record);
    const auto* eb = b ? std::get_if<trace::EventRecord>(&b->record) : nullptr;
    if (ea) {
      out = "#" + std::to_string(ea->seq);
      if (eb && eb->seq != ea->seq) out += "/#" + std::to_string(eb->seq);
      out += " [" + std::to_string(ea->tid);
      if (eb && eb->tid != ea->tid) out += "/" + std::to_string(eb->tid);
      out += "] " + text_.Call(*ea);
    } else if (const auto* p = std::get_if<trace::ProcessRecord>(&a.record)) {
      out = text_.Line(*p);
    } else if (const auto* c = std::get_if<trace::CowRecord>(&a.record)) {
      out = text_.Line(*c);
    }
    return out;
  }

  void Add(DiffEntry entry) {
    for (const auto& aspect : entry.aspects) ++summary_.by_kind[static_cast<size_t>(aspect.first)];
    if (summary_.entries.size() < options_.max_reported) {
      summary_.entries.push_back(std::move(entry));
    } else {
      ++summary_.unreported;
    }
  }

  void ReportOnly(const Item& item, bool side_a) {
    ++(side_a ? summary_.only_a : summary_.only_b);
    DiffEntry entry;
    const auto* e = std::get_if<trace::EventRecord>(&item.record);
    (side_a ? entry.seq_a : entry.seq_b) = e ? std::optional(e->seq) : std::nullopt;
    entry.where = e ? text_.Line(*e) : Where(item, nullptr);
    if (e && !options_.text.show_seq)
      entry.where = "#" + std::to_string(e->seq) + " " + entry.where;
    entry.aspects.push_back({side_a ? DiffKind::kOnlyInA : DiffKind::kOnlyInB, ""});
    entry.order = item.position;
    Add(std::move(entry));
  }

  void Compare(const Item& ia, const Item& ib) {
    ++summary_.matched;
    std::vector<std::pair<DiffKind, std::string>> aspects;
    const auto* a = std::get_if<trace::EventRecord>(&ia.record);
    const auto* b = std::get_if<trace::EventRecord>(&ib.record);
    if (a && b) {
      CompareEvents(*a, *b, aspects);
    } else if (const auto* pa = std::get_if<trace::ProcessRecord>(&ia.record)) {
      const auto& pb = std::get<trace::ProcessRecord>(ib.record);
      // An exec the connector could not name (empty path) matches any.
      const bool named = !pa->exec_path.empty() && !pb.exec_path.empty();
      auto same_argv = [&] {
        if (pa->argv.size() != pb.argv.size()) return false;
        for (size_t i = 0; i < pa->argv.size(); ++i) {
          if (pa->argv[i] != pb.argv[i] &&
              dirs_a_.Normalise(pa->argv[i]) != dirs_b_.Normalise(pb.argv[i])) {
            return false;
          }
        }
        return true;
      };
      const bool same_path = pa->exec_path == pb.exec_path ||
                             dirs_a_.Normalise(pa->exec_path) == dirs_b_.Normalise(pb.exec_path);
      if (pa->exit_status != pb.exit_status || pa->signal != pb.signal ||
          (named && (!same_argv() || !same_path))) {
        aspects.push_back({DiffKind::kProcess, "A " + text_.Line(*pa) + "; B " + text_.Line(pb)});
      }
    } else if (const auto* ca = std::get_if<trace::CowRecord>(&ia.record)) {
      const auto& cb = std::get<trace::CowRecord>(ib.record);
      if (ca->detail != cb.detail || ca->path != cb.path) {
        aspects.push_back({DiffKind::kCow, "A " + text_.Line(*ca) + "; B " + text_.Line(cb)});
      }
    }
    if (aspects.empty()) {
      ++summary_.identical;
      return;
    }
    ++summary_.different;
    DiffEntry entry;
    if (a && b) {
      entry.seq_a = a->seq;
      entry.seq_b = b->seq;
    }
    entry.where = Where(ia, &ib);
    entry.aspects = std::move(aspects);
    entry.order = ia.position;
    Add(std::move(entry));
  }

  // Whether two pids name the same thread: the same stream after pairing,
  // or equal when either is unknown to the traces (e.g. the supervisor).
  bool SamePid(int32_t a, int32_t b) const {
    if (!options_.map_tids) return a == b;
    auto ia = thread_ids_.a.find(static_cast<uint32_t>(a));
    auto ib = thread_ids_.b.find(static_cast<uint32_t>(b));
    if (ia == thread_ids_.a.end() || ib == thread_ids_.b.end()) return true;
    return ia->second == ib->second;
  }

  // Two Tracee calls agree up to what varies between runs: addresses
  // (ASLR), pids (compared through the thread pairing), process start
  // times, and the run's workdir and storage directories in bytes and
  // paths. Everything else must agree, fields a newer schema adds included.
  // `syscall` is the event's name when it is of the native arch, else "".
  bool SameCall(const trace::TraceeCall& a, const trace::TraceeCall& b,
                std::string_view syscall) const {
    if (a.kind != b.kind) return false;
    trace::TraceeCall x = a, y = b;
    x.addr = y.addr = 0;
    if (a.kind == trace::TraceeCallKind::kReadProcIds) {
      if (!SamePid(a.tgid, b.tgid) || !SamePid(a.ppid, b.ppid)) return false;
      x.tgid = y.tgid = x.ppid = y.ppid = 0;
      x.start_time = y.start_time = 0;
    }
    if (x.bytes != y.bytes && a.kind == trace::TraceeCallKind::kWriteMemory) {
      BlankRunSpecificFields(syscall, x.bytes);
      BlankRunSpecificFields(syscall, y.bytes);
    }
    if (x.bytes != y.bytes) {
      x.bytes = dirs_a_.Normalise(std::move(x.bytes));
      y.bytes = dirs_b_.Normalise(std::move(y.bytes));
    }
    if (x.file.path != y.file.path) {
      x.file.path = dirs_a_.Normalise(std::move(x.file.path));
      y.file.path = dirs_b_.Normalise(std::move(y.file.path));
    }
    if (x.address != y.address) {
      x.address = dirs_a_.Normalise(std::move(x.address));
      y.address = dirs_b_.Normalise(std::move(y.address));
    }
    return x == y;
  }

  bool SameFile(const trace::InjectedFileRecord& a, const trace::InjectedFileRecord& b) const {
    if (a == b) return true;
    trace::InjectedFileRecord x = a, y = b;
    x.path = dirs_a_.Normalise(std::move(x.path));
    y.path = dirs_b_.Normalise(std::move(y.path));
    return x == y;
  }

  void CompareEvents(const trace::EventRecord& a, const trace::EventRecord& b,
                     std::vector<std::pair<DiffKind, std::string>>& aspects) {
    const ArchTable* table = ArchTableFor(a.arch);
    const SyscallDef* def = table ? table->FindByNr(a.nr) : nullptr;
    for (int i = 0; def != nullptr && i < def->nargs(); ++i) {
      if (ScalarRole(def->args[i]) && a.args[i] != b.args[i]) {
        aspects.push_back({DiffKind::kArgs, "argument " + std::to_string(i + 1) + ": A " +
                                                FormatArg(*table, def->args[i], a.args[i]) +
                                                "; B " +
                                                FormatArg(*table, def->args[i], b.args[i])});
      }
    }
    const size_t n = std::min(a.calls.size(), b.calls.size());
    bool payload_reported = false;
    const std::string name =
        a.arch == NativeSyscalls().audit_arch() ? SyscallName(a.arch, a.nr) : std::string();
    for (size_t i = 0; i < n && !payload_reported; ++i) {
      if (!SameCall(a.calls[i], b.calls[i], name)) {
        aspects.push_back({DiffKind::kPayload, "Tracee call " + std::to_string(i + 1) + ": A " +
                                                   DescribeCall(a.calls[i]) + "; B " +
                                                   DescribeCall(b.calls[i])});
        payload_reported = true;
      }
    }
    if (!payload_reported && a.calls.size() != b.calls.size()) {
      const auto& longer = a.calls.size() > b.calls.size() ? a.calls : b.calls;
      aspects.push_back({DiffKind::kPayload, "A made " + std::to_string(a.calls.size()) +
                                                 " Tracee calls, B " +
                                                 std::to_string(b.calls.size()) +
                                                 "; the first extra: " + DescribeCall(longer[n])});
    }
    const auto& da = a.decision;
    const auto& db = b.decision;
    if (da.kind != db.kind || da.value != db.value || da.error != db.error) {
      aspects.push_back(
          {DiffKind::kDecision, "A " + text_.Decision(a) + "; B " + text_.Decision(b)});
    } else if (da.kind == trace::DecisionKind::kInjectFd && !SameFile(da.file, db.file)) {
      aspects.push_back(
          {DiffKind::kInjectedFile, "A " + DescribeFile(da.file) + "; B " + DescribeFile(db.file)});
    }
    if (a.outcome != b.outcome) {
      aspects.push_back({DiffKind::kOutcome, std::string("A ") +
                                                 std::string(trace::Name(a.outcome)) + "; B " +
                                                 std::string(trace::Name(b.outcome))});
    }
  }

  ThreadIds thread_ids_;
  RunDirs dirs_a_, dirs_b_;
  const DiffOptions& options_;
  DiffSummary& summary_;
  EventText text_;
  std::map<uint64_t, Stream> streams_;
  size_t buffered_a_ = 0, buffered_b_ = 0;
  bool done_a_ = false, done_b_ = false;
};

void CompareFooters(const std::optional<trace::FooterRecord>& a,
                    const std::optional<trace::FooterRecord>& b, DiffSummary& summary) {
  if (!a || !b) {
    if (a.has_value() != b.has_value()) {
      summary.notes.push_back(std::string("only ") + (a ? "A" : "B") + " has a footer");
    }
    return;
  }
  auto status = [](const trace::FooterRecord& f) {
    return f.signal ? "killed by signal " + std::to_string(f.signal)
                    : "exit status " + std::to_string(f.exit_status);
  };
  if (a->exit_status != b->exit_status || a->signal != b->signal) {
    summary.footer_differences.push_back("command: A " + status(*a) + "; B " + status(*b));
  }
  auto letter = [](trace::ChangeKind k) { return std::string(trace::Name(k)); };
  std::set<std::pair<std::string, std::string>> ca, cb;
  for (const auto& c : a->changes) ca.insert({c.path, letter(c.kind)});
  for (const auto& c : b->changes) cb.insert({c.path, letter(c.kind)});
  size_t listed = 0;
  for (const auto& c : ca) {
    if (!cb.count(c) && listed++ < 20) {
      summary.footer_differences.push_back("change only in A: " + c.second + " " + Quote(c.first));
    }
  }
  for (const auto& c : cb) {
    if (!ca.count(c) && listed++ < 20) {
      summary.footer_differences.push_back("change only in B: " + c.second + " " + Quote(c.first));
    }
  }
  if (listed > 20) {
    summary.footer_differences.push_back("... and " + std::to_string(listed - 20) +
                                         " more change-list differences");
  }
}

}  // namespace

std::string_view Name(DiffKind kind) {
  static constexpr std::string_view kNames[kDiffKinds] = {
      "args",    "payload", "decision",  "injected file", "outcome",
      "process", "cow",     "only in A", "only in B"};
  return kNames[static_cast<size_t>(kind)];
}

Result<DiffSummary> DiffTraces(trace::TraceReader& a, trace::TraceReader& b,
                               const DiffOptions& options) {
  DiffSummary summary;
  if (a.header().argv != b.header().argv) {
    summary.notes.push_back("the traces ran different command lines");
  }
  ThreadIds ids;
  if (options.map_tids) {
    auto paired = PairThreads(a, b);
    if (!paired.ok()) return paired.error();
    ids = std::move(*paired);
  }
  Differ differ(options, summary, std::move(ids), RunDirs::Of(a.header()), RunDirs::Of(b.header()));
  std::optional<trace::FooterRecord> footer_a, footer_b;
  uint64_t position_a = 0, position_b = 0;
  trace::Record record;
  while (!differ.done_a() || !differ.done_b()) {
    // Read from the side with less waiting, so both advance together.
    const bool side_a =
        differ.done_b() || (!differ.done_a() && differ.buffered_a() <= differ.buffered_b());
    trace::TraceReader& reader = side_a ? a : b;
    auto more = reader.Next(record);
    if (!more.ok()) return more.error();
    if (!*more) {
      differ.SetDone(side_a);
      continue;
    }
    uint64_t& position = side_a ? position_a : position_b;
    ++position;
    if (std::holds_alternative<trace::EventRecord>(record)) {
      ++(side_a ? summary.events_a : summary.events_b);
    }
    if (auto* f = std::get_if<trace::FooterRecord>(&record)) {
      (side_a ? footer_a : footer_b) = std::move(*f);
    } else if (std::holds_alternative<trace::EventRecord>(record) ||
               std::holds_alternative<trace::ProcessRecord>(record) ||
               std::holds_alternative<trace::CowRecord>(record)) {
      differ.Push(std::move(record), position, side_a);
    }
  }
  differ.Finish();
  CompareFooters(footer_a, footer_b, summary);
  if (!a.warning().empty()) summary.notes.push_back("A: " + a.warning());
  if (!b.warning().empty()) summary.notes.push_back("B: " + b.warning());
  std::stable_sort(summary.entries.begin(), summary.entries.end(),
                   [](const DiffEntry& x, const DiffEntry& y) { return x.order < y.order; });
  return summary;
}

std::string DiffText(const DiffSummary& s, const std::string& name_a, const std::string& name_b) {
  std::string out;
  for (const DiffEntry& e : s.entries) {
    const DiffKind first = e.aspects.front().first;
    if (first == DiffKind::kOnlyInA || first == DiffKind::kOnlyInB) {
      out +=
          std::string(first == DiffKind::kOnlyInA ? "only in A: " : "only in B: ") + e.where + "\n";
      continue;
    }
    out += e.where + "\n";
    for (const auto& [kind, what] : e.aspects) {
      out += "  " + std::string(Name(kind)) + ": " + what + "\n";
    }
  }
  if (s.unreported) out += "... " + std::to_string(s.unreported) + " more differences not shown\n";
  for (const auto& f : s.footer_differences) out += f + "\n";
  for (const auto& n : s.notes) out += "note: " + n + "\n";
  out += "A: " + name_a + ", " + std::to_string(s.events_a) + " events; B: " + name_b + ", " +
         std::to_string(s.events_b) + " events\n";
  out += std::to_string(s.matched) + " aligned: " + std::to_string(s.identical) + " identical, " +
         std::to_string(s.different) + " different";
  std::string kinds;
  for (size_t k = 0; k < static_cast<size_t>(DiffKind::kOnlyInA); ++k) {
    if (s.by_kind[k] == 0) continue;
    kinds += (kinds.empty() ? "" : ", ") + std::string(Name(static_cast<DiffKind>(k))) + " " +
             std::to_string(s.by_kind[k]);
  }
  if (!kinds.empty()) out += " (" + kinds + ")";
  out +=
      "; " + std::to_string(s.only_a) + " only in A, " + std::to_string(s.only_b) + " only in B\n";
  out += s.same() ? "identical\n" : "different\n";
  return out;
}

}  // namespace sandtrace::inspect
