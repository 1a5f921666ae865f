#include "replay/inspect/chrome_export.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "formats/json.h"
#include "replay/inspect/event_text.h"
#include "replay/inspect/json_out.h"

namespace sandtrace::inspect {
namespace {

// Writes the trace events one by one, each as its own JsonOut document, so
// nothing accumulates.
class ChromeWriter {
 public:
  ChromeWriter(std::ostream& out, uint64_t base_ns, uint32_t pid)
      : out_(out), base_ns_(base_ns), pid_(pid) {}

  void Begin(const trace::HeaderRecord& header) {
    out_ << "{\"displayTimeUnit\":\"ns\",\"otherData\":";
    std::string meta;
    JsonOut j(encoder_, meta);
    j.BeginObject();
    std::string command;
    for (const auto& a : header.argv) command += (command.empty() ? "" : " ") + a;
    j.Key("command").String(command);
    j.Key("workdir").String(header.workdir);
    j.Key("kernel").String(header.kernel_release);
    j.Key("tool").String(header.tool_version);
    j.EndObject();
    out_ << meta << ",\"traceEvents\":[\n";
    Event([&](JsonOut& e) {
      e.Key("name").String("process_name");
      e.Key("ph").String("M");
      e.Key("pid").Uint(pid_);
      e.Key("tid").Uint(pid_);
      e.Key("args").BeginObject().Key("name").String(command.empty() ? "traced command" : command);
      e.EndObject();
    });
  }

  void End() { out_ << "\n]}\n"; }

  void Slice(const trace::EventRecord& e, const EventText& text) {
    NameThread(e.tid);
    const uint64_t end = e.response_sent_ns >= e.received_ns ? e.response_sent_ns : e.received_ns;
    const std::string name = SyscallName(e.arch, e.nr);
    Event([&](JsonOut& j) {
      j.Key("name").String(name);
      j.Key("cat").String("syscall");
      j.Key("ph").String("X");
      j.Key("ts").Double(Us(e.received_ns));
      j.Key("dur").Double(static_cast<double>(end - e.received_ns) / 1e3);
      j.Key("pid").Uint(pid_);
      j.Key("tid").Uint(e.tid);
      j.Key("args").BeginObject();
      j.Key("seq").Uint(e.seq);
      j.Key("call").String(text.Call(e));
      if (auto path = EventPath(e)) j.Key("path").String(*path);
      j.Key("decision").String(text.Decision(e));
      if (e.decision.kind == trace::DecisionKind::kInjectFd) {
        j.Key("injected")
            .String(std::string(trace::Name(e.decision.file.root)) + ":" + e.decision.file.path);
      }
      j.Key("handler_us").Double(static_cast<double>(HandlerNs(e)) / 1e3);
      j.Key("outcome").String(trace::Name(e.outcome));
      j.EndObject();
    });
    ++summary_.slices;
  }

  void Process(const trace::ProcessRecord& p, const EventText& text) {
    switch (p.kind) {
      case trace::ProcessEventKind::kSpawn:
      case trace::ProcessEventKind::kFork:
        if (live_.count(p.pid)) EndProcess(p.pid, p.timestamp_ns);
        BeginProcess(p);
        break;
      case trace::ProcessEventKind::kExec:
        if (!live_.count(p.pid)) BeginProcess(p);
        Async(p.pid, "n", "exec", p.timestamp_ns, text.Line(p));
        break;
      case trace::ProcessEventKind::kExit:
        if (!live_.count(p.pid)) BeginProcess(p);
        Async(p.pid, "n", "exit", p.timestamp_ns, text.Line(p));
        EndProcess(p.pid, p.timestamp_ns);
        break;
      default:
        break;
    }
    last_ns_ = std::max(last_ns_, p.timestamp_ns);
  }

  void Seen(uint64_t ns) { last_ns_ = std::max(last_ns_, ns); }

  // Processes without an exit end where the trace ends.
  void CloseProcesses() {
    while (!live_.empty()) EndProcess(live_.begin()->first, last_ns_);
  }

  ExportSummary& summary() { return summary_; }

 private:
  double Us(uint64_t ns) const {
    return (static_cast<double>(ns) - static_cast<double>(base_ns_)) / 1e3;
  }

  template <class F>
  void Event(F&& fill) {
    line_.clear();
    if (!first_) line_ += ",\n";
    first_ = false;
    JsonOut j(encoder_, line_);
    j.BeginObject();
    fill(j);
    j.EndObject();
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  void NameThread(uint32_t tid) {
    if (!named_.insert(tid).second) return;
    Event([&](JsonOut& j) {
      j.Key("name").String("thread_name");
      j.Key("ph").String("M");
      j.Key("pid").Uint(pid_);
      j.Key("tid").Uint(tid);
      j.Key("args").BeginObject().Key("name").String("tid " + std::to_string(tid)).EndObject();
    });
  }

  void BeginProcess(const trace::ProcessRecord& p) {
    std::string name = "process " + std::to_string(p.pid);
    if (!p.exec_path.empty()) name += " " + p.exec_path;
    live_[p.pid] = name;
    ++summary_.processes;
    Async(p.pid, "b", name, p.timestamp_ns, "");
  }

  void EndProcess(uint32_t pid, uint64_t ns) {
    auto it = live_.find(pid);
    if (it == live_.end()) return;
    Async(pid, "e", it->second, ns, "");
    live_.erase(it);
  }

  void Async(uint32_t pid, const char* phase, const std::string& name, uint64_t ns,
             const std::string& detail) {
    Event([&](JsonOut& j) {
      j.Key("name").String(name);
      j.Key("cat").String("process");
      j.Key("ph").String(phase);
      j.Key("id").Uint(pid);
      j.Key("ts").Double(Us(ns));
      j.Key("pid").Uint(pid_);
      j.Key("tid").Uint(pid);
      if (!detail.empty()) j.Key("args").BeginObject().Key("event").String(detail).EndObject();
    });
  }

  std::ostream& out_;
  uint64_t base_ns_;
  uint32_t pid_;
  trace::JsonEncoder encoder_;
  std::string line_;
  bool first_ = true;
  std::unordered_set<uint32_t> named_;
  std::unordered_map<uint32_t, std::string> live_;
  uint64_t last_ns_ = 0;
  ExportSummary summary_;
};

}  // namespace

Result<ExportSummary> ExportChrome(trace::TraceReader& reader, std::ostream& out) {
  const trace::HeaderRecord& header = reader.header();
  // Times are shown from the start of the run; the root pid is only known
  // once the spawn record is read, so the command's own pid is used when
  // the first records hold it, else 1.
  uint64_t base_ns = header.start_monotonic_ns;
  uint32_t pid = 1;
  trace::Record record;
  // Peek at the records before the first event for the spawn pid and, if
  // the header has no start time, for the first timestamp.
  std::vector<trace::Record> early;
  while (true) {
    auto more = reader.Next(record);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (const auto* p = std::get_if<trace::ProcessRecord>(&record);
        p && p->kind == trace::ProcessEventKind::kSpawn) {
      pid = p->pid;
    }
    if (base_ns == 0) {
      if (auto t = trace::RecordTime(record)) base_ns = *t;
    }
    const bool is_event = std::holds_alternative<trace::EventRecord>(record);
    if (!std::holds_alternative<trace::HeaderRecord>(record) &&
        !std::holds_alternative<trace::SnapshotChunk>(record)) {
      early.push_back(record);
    }
    if (is_event || early.size() >= 64) break;
  }

  ChromeWriter writer(out, base_ns, pid);
  const EventText text;
  writer.Begin(header);
  auto handle = [&](const trace::Record& r) {
    if (const auto* e = std::get_if<trace::EventRecord>(&r)) {
      writer.Slice(*e, text);
      writer.Seen(e->response_sent_ns);
    } else if (const auto* p = std::get_if<trace::ProcessRecord>(&r)) {
      writer.Process(*p, text);
    } else if (const auto* f = std::get_if<trace::FooterRecord>(&r)) {
      writer.Seen(f->end_ns);
    }
  };
  for (const auto& r : early) handle(r);
  early.clear();
  Status status = OkStatus();
  while (true) {
    auto more = reader.Next(record);
    if (!more.ok()) {
      status = more.error();
      break;
    }
    if (!*more) break;
    handle(record);
  }
  writer.CloseProcesses();
  writer.End();
  if (!status.ok()) return status.error();
  if (!out) return Err(EIO, "writing the export failed");
  ExportSummary summary = writer.summary();
  summary.warning = reader.warning();
  return summary;
}

}  // namespace sandtrace::inspect
