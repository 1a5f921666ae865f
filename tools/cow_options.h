// The copy-on-write options of `trace run` (and later `trace record`), and
// the thin glue that turns them into a CowSession around a run.
//
//   -C, --workdir DIR   the directory the command sees copy-on-write
//                       (default: the current directory; never "/")
//   --commit | --discard | --keep | --dry-run
//                       what happens to the changes (default: commit when
//                       CMD exits 0, discard otherwise; see cow/handlers/
//                       disposition.h)
//   --quota SIZE        bytes the changes may take (K, M, G suffixes)
//   --storage DIR       where the upper layer lives (an empty directory
//                       outside the workdir; default: a private directory
//                       under $XDG_RUNTIME_DIR or $TMPDIR)
//   --handlers SET      cow (default), passthrough (the same syscalls
//                       notified and CONTINUEd: the bare notification cost;
//                       the workdir stays read-only) or none
//
// Thread-safety: used from main's thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "cow/handlers/cow_session.h"
#include "cow/handlers/disposition.h"
#include "tracer/base/result.h"
#include "tracer/core/handler_registry.h"
#include "tracer/supervisor.h"

namespace sandtrace::cli {

struct CowFlags {
  std::string workdir;
  bool commit = false;
  bool discard = false;
  bool keep = false;
  bool dry_run = false;
  std::string quota;
  std::string storage;
  std::string handlers = "cow";
};

void AddCowOptions(CLI::App* command, CowFlags* flags);

// "1024", "10K", "5M", "2G" (powers of 1024; a trailing "B" or "iB" is
// accepted). EINVAL with a message on anything else.
Result<uint64_t> ParseSize(const std::string& text);

// The COW side of one run.
class CowRun {
 public:
  // A session never finished (usage error, --print-features) is discarded.
  ~CowRun();
  // Validates the flags (EINVAL: a usage error, message in the context),
  // creates the session and registers the chosen handler set in `registry`,
  // and fills in the run's workdir (and, when reads are narrowed with -r,
  // makes the storage area readable: the child executes upper files).
  static Result<std::unique_ptr<CowRun>> Setup(const CowFlags& flags, HandlerRegistry& registry,
                                               RunOptions& run,
                                               cow::OverlayObserver* observer = nullptr);

  cow::CowSession* session() { return session_.get(); }

  // After the run: applies the disposition (messages to `err`), prints the
  // handlers' warnings and, with `stats`, their statistics. Returns the exit
  // status of `trace`: `exit_code`, or 125 when the command succeeded but
  // its changes could not be committed. `aborted` (sandtrace failed during
  // the run): the changes are discarded whatever the flags, unless --keep.
  int Finish(int exit_code, bool command_succeeded, bool stats, std::FILE* err,
             bool aborted = false);

 private:
  std::unique_ptr<cow::CowSession> session_;
  cow::Disposition disposition_ = cow::Disposition::kAuto;
  const ArchTable* table_ = nullptr;
  bool finished_ = false;
};

}  // namespace sandtrace::cli
