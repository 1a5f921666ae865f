#include "replay/replay.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "formats/trace_reader.h"
#include "replay/inspect/event_text.h"
#include "replay/inspect/trace_open.h"
#include "replay/recorded_tracee.h"
#include "tracer/core/syscall_table.h"

namespace sandtrace::replay {

namespace {

constexpr uint64_t kProgressEvery = 1024;

uint64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t NowNs() { return ClockNs(CLOCK_MONOTONIC); }

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// What the first pass learns from the end of the trace.
struct TraceEnd {
  std::optional<trace::FooterRecord> footer;
  std::optional<trace::CowRecord> disposition;  // the last commit / discard record
  uint64_t snapshot_chunks = 0;
  uint64_t events_hint = 0;  // for the progress bar (0 = unknown)
  std::string warning;       // the reader's truncation warning
};

// Reads from the last event frame (through the index) or from the start,
// feeding snapshot chunks to `lower`.
Result<TraceEnd> ReadEnd(trace::TraceReader& reader, LowerBuilder& lower) {
  TraceEnd end;
  if (reader.has_index()) {
    uint64_t last = 0;
    bool any = false;
    for (const trace::FrameIndexEntry& f : reader.index()) {
      if (f.has_events) {
        last = std::max(last, f.last_seq);
        any = true;
      }
    }
    if (any) {
      end.events_hint = last + 1;
      if (auto s = reader.SeekToSeq(last); !s.ok()) return s.error();
    }
  }
  trace::Record rec;
  for (;;) {
    auto more = reader.Next(rec);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (auto* chunk = std::get_if<trace::SnapshotChunk>(&rec)) {
      ++end.snapshot_chunks;
      if (Status s = lower.Add(*chunk); !s.ok()) return s.error();
    } else if (auto* footer = std::get_if<trace::FooterRecord>(&rec)) {
      end.footer = *footer;
    } else if (auto* cow = std::get_if<trace::CowRecord>(&rec)) {
      if (cow->kind == trace::CowEventKind::kCommit || cow->kind == trace::CowEventKind::kDiscard) {
        end.disposition = *cow;
      }
    } else if (auto* ev = std::get_if<trace::EventRecord>(&rec)) {
      end.events_hint = std::max(end.events_hint, ev->seq + 1);
    }
  }
  end.warning = reader.warning();
  return end;
}

// One replay of the whole trace.
class Run {
 public:
  Run(const std::string& path, const ReplayOptions& options, TimingCollector* timing)
      : path_(path), options_(options), timing_(timing), tracee_(map_) {}

  Result<ReplayReport> Go();
  double rebuild_seconds() const { return rebuild_s_; }
  double loop_seconds() const { return loop_s_; }
  double loop_cpu_seconds() const { return loop_cpu_s_; }
  double live_seconds() const { return live_s_; }

 private:
  Status Setup(trace::TraceReader& reader);
  void ReplayEvent(const trace::EventRecord& e, bool compare);
  void ReplayEnd();
  void Tally(const std::string& syscall, int outcome);  // 0 identical, 1 diverged, 2 outside

  const std::string& path_;
  const ReplayOptions& options_;
  TimingCollector* timing_;
  ReplayReport report_;
  std::unique_ptr<Scratch> scratch_;
  PathMap map_;
  RecordedTracee tracee_;
  HandlerRegistry registry_;
  SetContext sets_;
  TraceEnd end_;
  bool owners_restored_ = true;
  std::set<std::pair<uint64_t, uint64_t>> written_inodes_;
  std::set<std::string> written_paths_;
  std::map<std::string, SyscallTally> tallies_;
  inspect::EventText text_;
  uint64_t first_received_ = 0;
  uint64_t last_response_ = 0;
  double rebuild_s_ = 0;
  double loop_s_ = 0;
  double loop_cpu_s_ = 0;
  double live_s_ = 0;
};

Status Run::Setup(trace::TraceReader& reader) {
  const trace::HeaderRecord& h = reader.header();
  report_.command = Join(h.argv);
  report_.handler_sets = h.handler_sets;
  if (h.arch != NativeSyscalls().audit_arch()) {
    return Err(EPROTONOSUPPORT, path_ + ": recorded on another architecture (audit arch " +
                                    std::to_string(h.arch) + "); this replay has " +
                                    std::string(NativeSyscalls().name()) + " handlers only");
  }
  const bool has_cow = Has(h.handler_sets, cow::kCowSetName);
  const bool workdir_ok = !h.workdir.empty() && h.workdir[0] == '/';
  if (has_cow && !workdir_ok) {
    return Err(EPROTONOSUPPORT, path_ +
                                    ": the header names no absolute workdir for its "
                                    "copy-on-write run");
  }
  const std::string storage = PolicyOption(h, "storage");
  auto scratch = Scratch::Create(options_.scratch, workdir_ok ? h.workdir.size() : 0,
                                 storage.empty() || storage[0] != '/' ? 0 : storage.size());
  if (!scratch.ok()) return Err(scratch.code(), scratch.error().Message());
  scratch_ = std::move(*scratch);
  report_.scratch = scratch_->root();
  if (workdir_ok) map_.Add(h.workdir, scratch_->lower());
  tracee_.set_host_calls_recorded(h.format_version >= 3);
  if (!storage.empty() && storage[0] == '/') {
    map_.Add(storage, scratch_->storage());
  } else {
    tracee_.LearnStorage(scratch_->storage());
  }
  const bool storage_recorded = !storage.empty() && storage[0] == '/';
  if (has_cow &&
      (!scratch_->lower_matched() || (storage_recorded && !scratch_->storage_matched()))) {
    const std::string what =
        !scratch_->lower_matched() ? "the workdir " + h.workdir : "the storage area " + storage;
    report_.warnings.push_back(
        "the scratch directory's path is too long to stand in for " + what +
        " with the same length: paths are compared mapped back, but what depends on a path's "
        "length can differ (a path read into a buffer too short for the scratch one, a path "
        "copied under the stack for a restart); give a shorter --scratch");
  }

  const uint64_t t0 = NowNs();
  LowerBuilder lower(*scratch_, map_, geteuid() == 0);
  auto end = ReadEnd(reader, lower);
  if (!end.ok()) return Err(end.code(), inspect::ErrorLine(end.error()));
  end_ = std::move(*end);
  if (end_.snapshot_chunks == 0 && has_cow && h.snapshot_mode != trace::SnapshotMode::kNone) {
    return Err(EPROTONOSUPPORT, path_ + ": the trace has no workdir snapshot" +
                                    (end_.warning.empty() ? std::string(" (it ends without one)")
                                                          : " (" + end_.warning + ")") +
                                    ", so the copy-on-write run cannot be replayed");
  }
  if (end_.snapshot_chunks == 0 && has_cow) {
    report_.warnings.push_back("recorded without a snapshot: replaying over an empty workdir");
  }
  if (!end_.warning.empty()) report_.warnings.push_back(end_.warning);
  auto built = lower.Finish();
  if (!built.ok()) return Err(built.code(), built.error().Message());
  owners_restored_ = built->owners_restored;
  for (std::string& w : built->warnings) report_.warnings.push_back(std::move(w));
  rebuild_s_ = static_cast<double>(NowNs() - t0) / 1e9;

  sets_.workdir = scratch_->lower();
  sets_.storage = scratch_->storage();
  sets_.quota_bytes = options_.quota_bytes.value_or(h.policy.quota_bytes);
  sets_.check_permissions = options_.check_permissions.value_or(geteuid() == 0);
  if (Status s = BuildHandlerSets(h, options_.handler_sets, registry_, sets_); !s.ok()) {
    return Err(s.code(), path_ + ": " + s.error().Message());
  }
  return OkStatus();
}

void Run::Tally(const std::string& syscall, int outcome) {
  SyscallTally& t = tallies_[syscall];
  t.name = syscall;
  ++t.events;
  if (outcome == 0) ++t.identical;
  if (outcome == 1) ++t.diverged;
  if (outcome == 2) ++t.outside;
}

void Run::ReplayEvent(const trace::EventRecord& e, bool compare) {
  Notification n;
  n.seq = e.seq;
  n.id = e.id;
  n.tid = e.tid;
  n.arch = e.arch;
  n.nr = e.nr;
  n.ip = e.ip;
  n.args = e.args;
  tracee_.Begin(e.calls);
  const uint64_t outside_before =
      sets_.session != nullptr ? sets_.session->stats().outside_metadata : 0;

  std::vector<Difference> diffs;
  bool finished = false;
  DispatchResult dr;
  const uint64_t t0 = NowNs();
  try {
    dr = registry_.Dispatch(n, tracee_);
    finished = true;
  } catch (const CallMismatch& m) {
    diffs.push_back({"tracee call " + std::to_string(m.index()), m.expected(), m.got()});
  } catch (const std::exception& ex) {
    diffs.push_back({"handler", "a decision", std::string("an exception: ") + ex.what()});
  }
  const uint64_t t1 = NowNs();
  const std::string syscall = inspect::SyscallName(e.arch, e.nr);

  // Files the child may write through (the upper layer's, the run's own
  // /dev/shm's): their sizes come from the child.
  const bool shm =
      dr.decision.file.root == FileRoot::kOutside &&
      (dr.decision.file.path == "/dev/shm" || dr.decision.file.path.rfind("/dev/shm/", 0) == 0);
  if (finished && dr.decision.kind == DecisionKind::kInjectFd &&
      (dr.decision.file.root == FileRoot::kUpper || shm) &&
      ((dr.decision.file.open_flags & O_ACCMODE) != O_RDONLY)) {
    if (!shm) written_paths_.insert(dr.decision.file.path);
    struct stat st {};
    if (dr.decision.fd.valid() && fstat(dr.decision.fd.get(), &st) == 0) {
      written_inodes_.insert({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    }
    // The identity the view shows for it: a copied-up file keeps its lower
    // original's (and unify_device changes st_dev), so stats name that one.
    if (!shm && sets_.session != nullptr) {
      auto shown = sets_.session->overlay().Stat(cow::Base::Root(), dr.decision.file.path,
                                                 /*follow=*/false);
      if (shown.ok()) {
        written_inodes_.insert(
            {static_cast<uint64_t>(shown->st_dev), static_cast<uint64_t>(shown->st_ino)});
      }
    }
  }
  if (!compare) {
    ++report_.warmed_up;
    return;
  }
  if (timing_ != nullptr) {
    std::string set = dr.set >= 0 && static_cast<size_t>(dr.set) < registry_.set_names().size()
                          ? registry_.set_names()[static_cast<size_t>(dr.set)]
                          : "none";
    timing_->Add(syscall, finished ? set : "failed", t1 - t0, inspect::HandlerNs(e));
  }
  first_received_ = first_received_ == 0 ? e.received_ns : std::min(first_received_, e.received_ns);
  last_response_ = std::max(last_response_, e.response_sent_ns);
  ++report_.events;

  if (finished && tracee_.consumed() < tracee_.recorded()) {
    const trace::TraceeCall& next = e.calls[tracee_.consumed()];
    diffs.push_back({"tracee calls",
                     std::to_string(tracee_.recorded()) + " calls (next: " + DescribeCall(next) +
                         " " + DescribeResult(next) + ")",
                     "the handler decided after " + std::to_string(tracee_.consumed())});
  }
  CompareContext ctx;
  ctx.syscall = syscall;
  ctx.owners_restored = owners_restored_;
  ctx.written_inodes = &written_inodes_;
  for (const RecordedTracee::Write& w : tracee_.writes()) {
    if (auto d = CompareWrite(ctx, e.calls[w.index], w)) diffs.push_back(std::move(*d));
  }
  for (const RecordedTracee::Install& i : tracee_.installs()) {
    if (auto d = CompareInstall(e.calls[i.index], i)) diffs.push_back(std::move(*d));
  }
  // Traces before format 3 did not record what the host answered for
  // metadata changes outside the workdir: those events are not compared.
  const bool outside = !tracee_.host_calls_recorded() && sets_.session != nullptr &&
                       sets_.session->stats().outside_metadata != outside_before;
  if (finished && !outside) {
    // getcwd and readlink return the length of the path they wrote, which
    // the scratch paths may have changed (when they could not be given the
    // recorded paths' lengths).
    int64_t delta = 0;
    const auto& writes = tracee_.writes();
    if (dr.decision.kind == DecisionKind::kReturn && writes.size() == 1 &&
        dr.decision.value == static_cast<int64_t>(writes[0].written)) {
      delta =
          static_cast<int64_t>(writes[0].bytes.size()) - static_cast<int64_t>(writes[0].written);
    }
    if (auto d = CompareDecision(e.decision, dr.decision, map_, delta)) {
      diffs.push_back(std::move(*d));
    }
  }
  if (diffs.empty()) {
    if (outside) {
      ++report_.outside;
      Tally(syscall, 2);
    } else {
      ++report_.identical;
      Tally(syscall, 0);
    }
    return;
  }
  ++report_.diverged;
  Tally(syscall, 1);
  if (report_.divergences.size() < options_.max_details) {
    Divergence d;
    d.seq = e.seq;
    d.tid = e.tid;
    d.syscall = syscall;
    d.call = text_.Call(e);
    d.differences = std::move(diffs);
    report_.divergences.push_back(std::move(d));
  }
}

void Run::ReplayEnd() {
  cow::CowSession* session = sets_.session;
  if (session == nullptr || !end_.footer.has_value()) return;
  auto changes = session->overlay().Changes();
  report_.changes_compared = true;
  report_.changes_recorded = end_.footer->changes.size();
  if (!changes.ok()) {
    report_.change_differences.push_back({"change list",
                                          std::to_string(end_.footer->changes.size()) + " changes",
                                          "an error: " + changes.error().Message()});
    (void)session->overlay().Abort();
    return;
  }
  report_.changes_replayed = changes->size();
  report_.change_differences = CompareChanges(end_.footer->changes, *changes, written_paths_);
  // The recorded commit, into the scratch lower.
  if (end_.disposition && end_.disposition->kind == trace::CowEventKind::kCommit &&
      end_.disposition->detail.rfind("ok", 0) == 0) {
    cow::CommitOptions co;
    co.fsync = false;
    auto done = session->overlay().Commit(co);
    std::string got =
        done.ok()
            ? "ok " + std::to_string(done->added + done->modified + done->deleted) + " changes"
            : "failed: " + done.error().Message();
    // Only the outcome: the count may differ by files that only the child's
    // writes changed (compare.h rule 6), which the change list covers.
    if (!done.ok()) {
      report_.change_differences.push_back({"commit", end_.disposition->detail, got});
    }
  } else {
    (void)session->overlay().Abort();
  }
}

Result<ReplayReport> Run::Go() {
  report_.trace = path_;
  auto opened = inspect::OpenTrace(path_);
  if (!opened.ok()) return Err(opened.code(), inspect::ErrorLine(opened.error()));
  trace::TraceReader& reader = **opened;
  if (Status s = Setup(reader); !s.ok()) return s.error();

  const uint64_t from = options_.from_seq.value_or(0);
  const uint64_t to = options_.to_seq.value_or(UINT64_MAX);
  Status pos = options_.cold && from > 0 ? Status(OkStatus()) : reader.Rewind();
  if (options_.cold && from > 0) {
    auto found = reader.SeekToSeq(from);
    if (!found.ok()) pos = found.error();
    report_.warnings.push_back("started at event #" + std::to_string(from) +
                               " from the snapshot's state (--cold): events that depend on "
                               "earlier changes may diverge");
  }
  if (!pos.ok()) return Err(pos.code(), inspect::ErrorLine(pos.error()));

  const uint64_t t0 = NowNs();
  const uint64_t c0 = ClockNs(CLOCK_THREAD_CPUTIME_ID);
  trace::Record rec;
  uint64_t seen = 0;
  bool reached_end = true;
  for (;;) {
    auto more = reader.Next(rec);
    if (!more.ok()) {
      report_.read_error = inspect::ErrorLine(more.error());
      reached_end = false;
      break;
    }
    if (!*more) break;
    auto* e = std::get_if<trace::EventRecord>(&rec);
    if (e == nullptr) continue;
    if (e->seq > to) {
      reached_end = false;
      break;
    }
    ReplayEvent(*e, e->seq >= from);
    if (options_.progress && ++seen % kProgressEvery == 0)
      options_.progress(seen, end_.events_hint);
    if (options_.max_divergences > 0 && report_.diverged >= options_.max_divergences) {
      report_.stopped_early = true;
      reached_end = false;
      break;
    }
  }
  loop_s_ = static_cast<double>(NowNs() - t0) / 1e9;
  loop_cpu_s_ = static_cast<double>(ClockNs(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e9;
  if (options_.progress) options_.progress(seen, seen);
  if (reached_end && !(options_.cold && from > 0)) ReplayEnd();

  for (auto& [name, t] : tallies_) report_.by_syscall.push_back(t);
  std::stable_sort(
      report_.by_syscall.begin(), report_.by_syscall.end(),
      [](const SyscallTally& a, const SyscallTally& b) { return a.events > b.events; });
  const trace::HeaderRecord& h = reader.header();
  const uint64_t start = h.start_monotonic_ns != 0 && h.start_monotonic_ns <= first_received_
                             ? h.start_monotonic_ns
                             : first_received_;
  if (last_response_ > start && report_.events > 0) {
    live_s_ = static_cast<double>(last_response_ - start) / 1e9;
  }
  if (options_.scratch.keep) {
    report_.warnings.push_back("scratch directory kept: " + scratch_->root());
  }
  return std::move(report_);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

}  // namespace sandtrace::replay

namespace sandtrace {

Result<replay::ReplayReport> Replay(const std::string& path, const replay::ReplayOptions& options) {
  using namespace replay;
  const int repeat = options.timing ? std::max(1, options.repeat) : 1;
  TimingCollector collector;
  std::optional<ReplayReport> first;
  std::vector<double> loop, loop_cpu, rebuild;
  double live = 0;
  for (int i = 0; i < repeat; ++i) {
    Run run(path, options, options.timing ? &collector : nullptr);
    auto r = run.Go();
    if (!r.ok()) return r.error();
    loop.push_back(run.loop_seconds());
    loop_cpu.push_back(run.loop_cpu_seconds());
    rebuild.push_back(run.rebuild_seconds());
    live = run.live_seconds();
    if (!first) first = std::move(*r);
    if (!first->read_error.empty()) break;
  }
  ReplayReport report = std::move(*first);
  if (options.timing) {
    TimingReport t = collector.Summarise();
    t.repeat = static_cast<int>(loop.size());
    t.events = report.events;
    t.rebuild_seconds = Median(rebuild);
    t.replay_seconds = Median(loop);
    t.replay_cpu_seconds = Median(loop_cpu);
    const double n = static_cast<double>(report.events + report.warmed_up);
    if (t.replay_seconds > 0) t.replay_events_per_s = n / t.replay_seconds;
    if (t.replay_cpu_seconds > 0) t.replay_cpu_events_per_s = n / t.replay_cpu_seconds;
    t.live_seconds = live;
    if (live > 0) t.live_events_per_s = static_cast<double>(report.events) / live;
    if (t.live_events_per_s > 0) t.speedup = t.replay_events_per_s / t.live_events_per_s;
    report.timing = std::move(t);
  }
  return report;
}

}  // namespace sandtrace
