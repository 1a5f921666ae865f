#include "replay/inspect/event_text.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include <cinttypes>
#include <cstdio>

namespace sandtrace::inspect {
namespace {

using trace::TraceeCallKind;

// The recorded read of `kind` at `addr` that succeeded, if any.
const trace::TraceeCall* FindRead(const trace::EventRecord& event, TraceeCallKind kind,
                                  uint64_t addr) {
  for (const auto& call : event.calls) {
    if (call.kind == kind && call.addr == addr && call.error == 0) return &call;
  }
  return nullptr;
}

std::string ErrnoText(int error) {
  std::string out = "-1 ";
  if (const char* name = strerrorname_np(error)) {
    out += name;
    out += " (";
    out += strerror(error);
    out += ')';
  } else {
    out += "errno " + std::to_string(error);
  }
  return out;
}

std::string SignalText(int sig) {
  if (sig > 0 && sig < NSIG) {
    if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  }
  return "signal " + std::to_string(sig);
}

std::string QuoteList(const std::vector<std::string>& items, size_t limit) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += Quote(items[i], limit);
  }
  return out + "]";
}

}  // namespace

std::string SyscallName(uint32_t arch, int nr) {
  if (const ArchTable* table = ArchTableFor(arch)) return table->NameOf(nr);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%#" PRIx32 ":syscall_%d", arch, nr);
  return buf;
}

uint64_t HandlerNs(const trace::EventRecord& event) {
  if (event.handler_end_ns < event.handler_start_ns || event.handler_start_ns == 0) return 0;
  return event.handler_end_ns - event.handler_start_ns;
}

std::string FormatDuration(uint64_t ns) {
  char buf[32];
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 "ns", ns);
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1fµs", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.2fms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

std::optional<std::string_view> ArgString(const trace::EventRecord& event, int index) {
  if (index < 0 || index >= 6) return std::nullopt;
  if (const auto* call = FindRead(event, TraceeCallKind::kReadString, event.args[index])) {
    return std::string_view(call->bytes);
  }
  return std::nullopt;
}

std::optional<std::string_view> EventPath(const trace::EventRecord& event) {
  const ArchTable* table = ArchTableFor(event.arch);
  const SyscallDef* def = table ? table->FindByNr(event.nr) : nullptr;
  if (def == nullptr) return std::nullopt;
  for (int i = 0; i < def->nargs(); ++i) {
    if (def->args[i] == ArgRole::kPath) {
      if (auto s = ArgString(event, i)) return s;
    }
  }
  return std::nullopt;
}

std::string Quote(std::string_view bytes, size_t limit) { return QuoteString(bytes, limit); }

std::string EventText::Call(const trace::EventRecord& event) const {
  const ArchTable* table = ArchTableFor(event.arch);
  const SyscallDef* def = table ? table->FindByNr(event.nr) : nullptr;
  std::string out = SyscallName(event.arch, event.nr) + "(";
  if (def == nullptr) {
    for (int i = 0; i < 6; ++i) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%#" PRIx64, event.args[i]);
      out += (i ? ", " : "");
      out += buf;
    }
    return out + ")";
  }
  // The loop mirrors FormatSyscall (tracer/core) but adds what a trace
  // knows and the live decoder does not: buffer contents and strace's -s.
  int n = def->nargs();
  for (int i = 0; i + 1 < n; ++i) {
    // Like strace: an open mode is shown only when the flags create a file.
    if (def->args[i] == ArgRole::kOpenFlags && def->args[i + 1] == ArgRole::kMode &&
        !OpenCreatesFile(*table, event.args[i])) {
      n = i + 1;
      break;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (i) out += ", ";
    const ArgRole role = def->args[i];
    const uint64_t v = event.args[i];
    if (role == ArgRole::kPath || role == ArgRole::kString) {
      if (auto s = ArgString(event, i)) {
        out += Quote(*s, role == ArgRole::kPath ? SIZE_MAX : options_.string_limit);
        continue;
      }
    } else if (role == ArgRole::kBufIn) {
      if (const auto* call = FindRead(event, TraceeCallKind::kReadMemory, v)) {
        out += Quote(call->bytes, options_.string_limit);
        continue;
      }
    } else if (role == ArgRole::kBufOut) {
      // What the handler wrote there (getrandom's bytes), as strace shows
      // an output buffer after the call.
      if (const auto* call = FindRead(event, TraceeCallKind::kWriteMemory, v)) {
        out += Quote(call->bytes, options_.string_limit);
        continue;
      }
    }
    out += FormatArg(*table, role, v);  // the trace's arch's flag values
  }
  return out + ")";
}

std::string EventText::Decision(const trace::EventRecord& event) const {
  const trace::DecisionRecord& d = event.decision;
  std::string out;
  switch (d.kind) {
    case trace::DecisionKind::kContinue:
      out = "continue";
      break;
    case trace::DecisionKind::kReturn:
      out = std::to_string(d.value);
      break;
    case trace::DecisionKind::kErrno:
      out = ErrnoText(d.error);
      break;
    case trace::DecisionKind::kInjectFd: {
      // A waiter's answer came after the event was written: no fd number.
      out = "inject fd " + (d.file.waits && d.file.fd < 0 ? "?" : std::to_string(d.file.fd)) +
            " (" + std::string(trace::Name(d.file.root));
      auto path = EventPath(event);
      if (!path || *path != d.file.path) out += " " + Quote(d.file.path);
      if (d.file.waits) out += ", waits";
      out += ")";
      break;
    }
    case trace::DecisionKind::kRestart: {
      char value[32];
      std::snprintf(value, sizeof value, "0x%" PRIx64, static_cast<uint64_t>(d.value));
      out = "restart with arg" + std::to_string(d.arg) + "=" + value;
      if (d.arg2 >= 0) {
        std::snprintf(value, sizeof value, "0x%" PRIx64, d.value2);
        out += ", arg" + std::to_string(d.arg2) + "=" + value;
      }
      out += " (else " + ErrnoText(d.error) + ")";
      break;
    }
    default:
      out = "?";
      break;
  }
  // Files the handler installed in the child besides its answer (ADDFD
  // without SEND, e.g. both ends of an emulated pipe).
  for (const auto& call : event.calls) {
    if (call.kind != TraceeCallKind::kInstallFd || call.error != 0) continue;
    out += " (installed fd " + std::to_string(call.file.fd) + " (" +
           std::string(trace::Name(call.file.root)) + " " + Quote(call.file.path) + "))";
  }
  switch (event.outcome) {
    case trace::ResponseOutcome::kTargetGone:
      out += " (target gone)";
      break;
    case trace::ResponseOutcome::kInterrupted:
      out += " (interrupted)";
      break;
    case trace::ResponseOutcome::kFailed:
      out += " (send failed)";
      break;
    case trace::ResponseOutcome::kWaiting:
      out += " (answered once the FIFO's other end opened)";
      break;
    default:
      break;
  }
  if (event.restart_of_seq) out += " (restart of #" + std::to_string(*event.restart_of_seq) + ")";
  return out;
}

std::string EventText::Prefix(std::optional<uint64_t> seq, std::optional<uint32_t> tid,
                              uint64_t time_ns) const {
  std::string out;
  if (options_.show_seq && seq) out += "#" + std::to_string(*seq) + " ";
  if (options_.show_time) {
    char buf[40];
    const double s =
        (static_cast<double>(time_ns) - static_cast<double>(options_.time_base_ns)) / 1e9;
    std::snprintf(buf, sizeof buf, "%.6f ", s);
    out += buf;
  }
  if (tid) out += "[" + std::to_string(*tid) + "] ";
  return out;
}

std::string EventText::Line(const trace::EventRecord& event) const {
  std::string out = Prefix(event.seq, event.tid, event.received_ns);
  out += Call(event);
  out += " = ";
  out += Decision(event);
  out += " <" + FormatDuration(HandlerNs(event)) + ">";
  return out;
}

std::string EventText::Line(const trace::ProcessRecord& p) const {
  std::string out = Prefix(std::nullopt, p.pid, p.timestamp_ns) + "+++ ";
  switch (p.kind) {
    case trace::ProcessEventKind::kSpawn:
      out += "spawn " + Quote(p.exec_path) + " " + QuoteList(p.argv, options_.string_limit);
      break;
    case trace::ProcessEventKind::kFork:
      out += "fork from " + std::to_string(p.parent_pid);
      break;
    case trace::ProcessEventKind::kExec:
      out += "exec " + Quote(p.exec_path) + " " + QuoteList(p.argv, options_.string_limit);
      break;
    case trace::ProcessEventKind::kExit:
      out += p.signal != 0 ? "killed by " + SignalText(p.signal)
                           : "exited with " + std::to_string(p.exit_status);
      break;
    default:
      out += "process event (unknown kind)";
      break;
  }
  return out + " +++";
}

std::string EventText::Line(const trace::CowRecord& c) const {
  std::string out = Prefix(std::nullopt, std::nullopt, c.timestamp_ns) + "--- cow ";
  out += trace::Name(c.kind);
  out += " " + Quote(c.path);
  if (!c.detail.empty()) out += " " + Quote(c.detail, options_.string_limit);
  if (c.event_seq) out += " (event #" + std::to_string(*c.event_seq) + ")";
  return out + " ---";
}

}  // namespace sandtrace::inspect
