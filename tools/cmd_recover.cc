// `trace recover [WORKDIR] [--storage DIR]`: finishes or rolls back a commit
// that was interrupted (crash, kill, power loss) — see cow/commit.h.
//
// Exit status: 0 when there was nothing to do or recovery succeeded; 1 when
// an interrupted commit was found but cannot be recovered (nothing is then
// touched); 2 for a bad option or a missing directory.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cow/commit.h"
#include "tools/command.h"

namespace sandtrace::cli {
namespace {

struct RecoverFlags {
  std::string workdir = ".";
  std::string storage;
};

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  char buf[4096];
  if (!::getcwd(buf, sizeof(buf))) return path;
  return std::string(buf) + "/" + path;
}

void Print(const cow::RecoveryReport& r) { std::printf("trace recover: %s\n", r.message.c_str()); }

int RecoverMain(const RecoverFlags& f) {
  if (!f.storage.empty()) {
    if (!IsDir(f.storage)) {
      std::fprintf(stderr, "trace recover: no such storage directory: %s\n", f.storage.c_str());
      return kExitUsage;
    }
    auto r = cow::RecoverStorage(Absolute(f.storage));
    if (!r.ok()) {
      std::fprintf(stderr, "trace recover: %s\n", r.error().Message().c_str());
      return 1;
    }
    if (!r->has_value()) {
      std::printf("trace recover: no interrupted commit in %s\n", f.storage.c_str());
      return 0;
    }
    Print(**r);
    return 0;
  }
  if (!IsDir(f.workdir)) {
    std::fprintf(stderr, "trace recover: no such directory: %s\n", f.workdir.c_str());
    return kExitUsage;
  }
  auto r = cow::RecoverWorkdir(Absolute(f.workdir));
  if (!r.ok()) {
    std::fprintf(stderr, "trace recover: %s\n", r.error().Message().c_str());
    return 1;
  }
  if (r->empty()) {
    std::printf("trace recover: no interrupted commit in %s\n", f.workdir.c_str());
    return 0;
  }
  for (const auto& one : *r) Print(one);
  return 0;
}

}  // namespace

void AddRecoverCommand(CLI::App& app, Action* action) {
  auto flags = std::make_shared<RecoverFlags>();
  CLI::App* cmd = app.add_subcommand(
      "recover", "Finish or roll back a commit to a workdir that was interrupted");
  cmd->add_option("WORKDIR", flags->workdir,
                  "The workdir whose interrupted commit to recover (default: .)");
  cmd->add_option("--storage", flags->storage,
                  "Recover through this storage area's journal instead of searching WORKDIR");
  cmd->footer(
      "A commit journals its plan in its storage area and stages new files in "
      "WORKDIR/.sandtrace-commit-*. Interrupted before its commit point, it is rolled back "
      "(the workdir is left as it was); after it, it is finished. `trace run` does this "
      "itself before starting.\n\n"
      "Examples:\n"
      "  trace recover\n"
      "  trace recover ~/src/project\n"
      "  trace recover --storage /run/user/1000/sandtrace/run-Ab12Cd\n\n"
      "Exit status: 0 nothing to do or recovered; 1 found but not recoverable (nothing "
      "touched); 2 bad option or missing directory.");
  cmd->callback([flags, action] { *action = [flags] { return RecoverMain(*flags); }; });
}

}  // namespace sandtrace::cli
