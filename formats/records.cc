#include "formats/records.h"

#include <type_traits>

namespace sandtrace::trace {
namespace {

// Looks a name up by the enum's numeric value; "?" past the table (a value
// from a newer writer that the reader mapped through unchanged).
template <class E, size_t N>
std::string_view Lookup(E v, const std::string_view (&names)[N]) {
  auto i = static_cast<size_t>(static_cast<std::underlying_type_t<E>>(v));
  return i < N ? names[i] : std::string_view("?");
}

}  // namespace

void InjectedFileRecord::Clear() {
  root = FileRoot::kUnknown;
  path.clear();
  open_flags = 0;
  fd_flags = 0;
  fd = -1;
  waits = false;
}

void TraceeCall::Clear() {
  kind = TraceeCallKind::kUnknown;
  addr = 0;
  length = 0;
  link = ProcLink::kUnknown;
  fd = 0;
  error = 0;
  result = 0;
  bytes.clear();
  tgid = 0;
  ppid = 0;
  start_time = 0;
  offset = 0;
  whence = 0;
  host_op = HostOp::kUnknown;
  file.Clear();
  address.clear();
}

void DecisionRecord::Clear() {
  kind = DecisionKind::kUnknown;
  value = 0;
  error = 0;
  arg = 0;
  arg2 = -1;
  value2 = 0;
  file.Clear();
}

std::string_view Name(DecisionKind v) {
  static constexpr std::string_view kNames[] = {"unknown", "continue",  "return",
                                                "errno",   "inject_fd", "restart"};
  return Lookup(v, kNames);
}
std::string_view Name(FileRoot v) {
  static constexpr std::string_view kNames[] = {"unknown", "upper", "lower", "outside"};
  return Lookup(v, kNames);
}
std::string_view Name(ProcLink v) {
  static constexpr std::string_view kNames[] = {"unknown", "cwd", "fd", "root", "exe"};
  return Lookup(v, kNames);
}
std::string_view Name(ResponseOutcome v) {
  static constexpr std::string_view kNames[] = {"unknown",     "sent",   "target_gone",
                                                "interrupted", "failed", "waiting"};
  return Lookup(v, kNames);
}
std::string_view Name(TraceeCallKind v) {
  static constexpr std::string_view kNames[] = {
      "unknown",        "read_memory",    "read_string",        "read_proc_link",
      "read_umask",     "id_valid",       "write_memory",       "read_proc_ids",
      "seek_fd",        "install_fd",     "read_stack_pointer", "bind_socket",
      "connect_socket", "read_file_head", "host_call",          "add_watch"};
  return Lookup(v, kNames);
}
std::string_view Name(HostOp v) {
  static constexpr std::string_view kNames[] = {"unknown", "stat", "access", "readlink",
                                                "reach",   "open", "change"};
  return Lookup(v, kNames);
}
std::string_view Name(ProcessEventKind v) {
  static constexpr std::string_view kNames[] = {"unknown", "spawn", "fork", "exec", "exit"};
  return Lookup(v, kNames);
}
std::string_view Name(CowEventKind v) {
  static constexpr std::string_view kNames[] = {
      "unknown", "copy_up", "whiteout", "create", "rename", "commit", "discard", "change", "quota"};
  return Lookup(v, kNames);
}
std::string_view Name(Disposition v) {
  static constexpr std::string_view kNames[] = {"unknown", "commit_on_success", "commit", "discard",
                                                "dry_run"};
  return Lookup(v, kNames);
}
std::string_view Name(SnapshotMode v) {
  static constexpr std::string_view kNames[] = {"unknown", "none", "metadata", "full"};
  return Lookup(v, kNames);
}
std::string_view Name(FileType v) {
  static constexpr std::string_view kNames[] = {"unknown",     "regular",     "directory",
                                                "symlink",     "fifo",        "socket",
                                                "char_device", "block_device"};
  return Lookup(v, kNames);
}
std::string_view Name(ChangeKind v) {
  static constexpr std::string_view kNames[] = {"unknown", "added", "modified", "deleted"};
  return Lookup(v, kNames);
}

std::optional<uint64_t> RecordTime(const Record& record) {
  if (const auto* e = std::get_if<EventRecord>(&record)) return e->received_ns;
  if (const auto* p = std::get_if<ProcessRecord>(&record)) return p->timestamp_ns;
  if (const auto* c = std::get_if<CowRecord>(&record)) return c->timestamp_ns;
  if (const auto* f = std::get_if<FooterRecord>(&record)) return f->end_ns;
  return std::nullopt;
}

}  // namespace sandtrace::trace
