#include "tools/cow_options.h"

#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "tools/command.h"

extern char** environ;

namespace sandtrace::cli {

void AddCowOptions(CLI::App* command, CowFlags* f) {
  command->add_option("-C,--workdir", f->workdir,
                      "Directory the command sees copy-on-write (default: the current directory)");
  auto* commit =
      command->add_flag("--commit", f->commit, "Commit the changes whatever CMD's status");
  auto* discard = command->add_flag("--discard", f->discard, "Discard the changes");
  auto* keep =
      command->add_flag("--keep", f->keep, "Keep the changes in the storage area, uncommitted");
  auto* dry =
      command->add_flag("--dry-run", f->dry_run,
                        "Print the changes to stderr (A/M/D path, sorted), then discard them");
  commit->excludes(discard, keep, dry);
  discard->excludes(keep, dry);
  keep->excludes(dry);
  command->add_option("--quota", f->quota, "Bytes the changes may take (K, M, G suffixes)");
  command->add_option("--storage", f->storage,
                      "Empty directory for the upper layer (outside the workdir)");
  command
      ->add_option("--handlers", f->handlers,
                   "Handler set: cow (default), passthrough (same syscalls, all CONTINUEd), none")
      ->check(CLI::IsMember({"cow", "passthrough", "none"}));
}

Result<uint64_t> ParseSize(const std::string& text) {
  auto bad = [&] {
    return Err(EINVAL, "--quota: bad size '" + text + "' (a number with an optional K, M or G)");
  };
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return bad();
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE) return bad();
  std::string suffix(end);
  for (char& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (suffix.size() > 1 && (suffix.substr(1) == "B" || suffix.substr(1) == "IB")) {
    suffix = suffix.substr(0, 1);
  }
  int shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix == "K") {
    shift = 10;
  } else if (suffix == "M") {
    shift = 20;
  } else if (suffix == "G") {
    shift = 30;
  } else {
    return bad();
  }
  if (shift > 0 && v > (ULLONG_MAX >> shift)) return bad();
  return static_cast<uint64_t>(v) << shift;
}

Result<std::unique_ptr<CowRun>> CowRun::Setup(const CowFlags& f, HandlerRegistry& registry,
                                              RunOptions& run, cow::OverlayObserver* observer) {
  auto out = std::unique_ptr<CowRun>(new CowRun());
  out->table_ = &registry.table();
  if (f.commit) out->disposition_ = cow::Disposition::kCommit;
  if (f.discard) out->disposition_ = cow::Disposition::kDiscard;
  if (f.keep) out->disposition_ = cow::Disposition::kKeep;
  if (f.dry_run) out->disposition_ = cow::Disposition::kDryRun;
  uint64_t quota = 0;
  if (!f.quota.empty()) {
    auto q = ParseSize(f.quota);
    if (!q.ok()) return q.error();
    quota = *q;
  }
  run.workdir = f.workdir;
  if (f.handlers == "none") return out;
  if (f.handlers == "passthrough") {
    if (Status s = cow::AddPassthroughSet(registry); !s.ok()) return s.error();
    return out;
  }
  cow::CowSessionOptions so;
  so.workdir = f.workdir;
  so.storage = f.storage;
  so.quota_bytes = quota;
  so.observer = observer;
  so.writable_paths = run.write_paths;
  so.readable_paths = run.read_paths;
  auto session = cow::CowSession::Create(so);
  if (!session.ok()) {
    if (session.code() == EINVAL) return session.error();
    return Err(session.code(), session.error().Message());
  }
  out->session_ = std::move(*session);
  if (Status s = out->session_->Register(registry); !s.ok()) return s.error();
  run.workdir = out->session_->workdir();
  // The command starts in the canonical workdir: a logical $PWD inherited
  // from the caller (through a symlink) would make shells build absolute
  // paths that reach the workdir from outside, which the view cannot follow.
  if (run.env.empty()) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::strncmp(*e, "PWD=", 4) != 0) run.env.emplace_back(*e);
    }
    run.env.push_back("PWD=" + run.workdir);
  }
  // With -r the child reads only the listed trees: it must still be able to
  // execute files of the upper layer (exec of files created in the run).
  if (!run.read_paths.empty()) run.read_paths.push_back(out->session_->storage());
  // The child opens FIFOs made in the run itself, by their links there.
  run.open_rw_paths.push_back(out->session_->fifo_dir());
  return out;
}

CowRun::~CowRun() {
  if (session_ && !finished_) (void)session_->overlay().Abort();
}

int CowRun::Finish(int exit_code, bool command_succeeded, bool stats, std::FILE* err,
                   bool aborted) {
  if (!session_) return exit_code;
  if (aborted && disposition_ != cow::Disposition::kKeep) {
    disposition_ = cow::Disposition::kDiscard;
  }
  for (const std::string& w : session_->TakeWarnings()) std::fprintf(err, "trace: %s\n", w.c_str());
  if (stats) std::fputs(cow::FormatStats(session_->stats(), *table_).c_str(), err);
  // A failed command after writes Landlock refused: say where, once.
  if (!command_succeeded && !aborted) {
    const std::string note = cow::RefusedWritesNote(session_->stats());
    if (!note.empty()) std::fprintf(err, "trace: %s", note.c_str());
  }
  finished_ = true;
  auto done = cow::FinishSession(*session_, disposition_, command_succeeded, err);
  if (!done.ok() && exit_code == 0) return kExitInternal;
  return exit_code;
}

}  // namespace sandtrace::cli
