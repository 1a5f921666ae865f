// Starting the sandboxed command (DESIGN.md §5) and ending its process tree.
//
// Spawn() forks; the child, in this order: joins its own process group, sets
// a parent-death signal (SIGKILL) and checks its parent is still the one
// that forked it, resets every signal disposition and unblocks all signals,
// chdirs to the workdir, marks every fd but stdio close-on-exec, sets
// no_new_privs, enforces the Landlock ruleset, installs the seccomp filter
// with a new listener, hands the listener to the supervisor (SCM_RIGHTS,
// with the per-run cookie that exempts that one sendmsg from notification)
// and execs. Between fork and exec it calls only async-signal-safe functions
// on data prepared before the fork. A failure before exec is reported on a
// close-on-exec pipe as (stage, errno), followed by _exit(127) for exec and
// _exit(125) otherwise.
//
// A watchdog process joins the command's process group and blocks reading a
// pipe from the supervisor: if the supervisor dies (even by SIGKILL) the
// pipe reaches EOF and the watchdog SIGKILLs the group. Processes that leave
// the group (setsid) are only reached while the supervisor lives
// (KillTree walks its descendants).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tracer/base/result.h"
#include "tracer/base/unique_fd.h"

namespace sandtrace {

struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value
  std::string workdir;           // the child chdirs there
  std::vector<sock_filter> filter;
  unsigned seccomp_flags = 0;  // besides SECCOMP_FILTER_FLAG_NEW_LISTENER
  int landlock_fd = -1;        // -1: no Landlock
  int cookie_nr = -1;          // the handshake syscall (sendmsg) and its cookie
  int cookie_arg = 5;
  uint64_t cookie = 0;
  bool foreground_tty = false;  // give the terminal to the child's process group
  // RLIMIT_NOFILE for the command (the supervisor raises its own soft limit
  // for its caches; the command gets what it would have had). Unset: as
  // inherited.
  std::optional<rlimit> nofile;
};

struct SpawnedChild {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd listener;
  UniqueFd status;  // read end: (stage, errno) if exec fails; EOF on success
  pid_t watchdog = -1;
  UniqueFd watchdog_pipe;  // write end; closing it (or dying) fires the watchdog
  int tty_fd = -1;         // the terminal handed to the child, or -1
};

// What the child reports on the status pipe.
struct ChildFailure {
  int stage = 0;
  int error = 0;
};
enum ChildStage : int {
  kStageSetpgid = 1,
  kStageParentDeath,
  kStageSignals,
  kStageChdir,
  kStageNoNewPrivs,
  kStageLandlock,
  kStageSeccomp,
  kStageHandshake,
  kStageExec,
};
// "cannot execute 'cmd'" / "child could not enforce the Landlock ruleset"
// (without the errno), and the same followed by ": strerror(errno)".
std::string DescribeChildStage(int stage, const std::string& command);
std::string DescribeChildFailure(const ChildFailure& f, const std::string& command);

// Forks and sets up the child as above; returns once the supervisor holds
// the listener. On failure the child has been reaped.
Result<SpawnedChild> Spawn(const SpawnRequest& request);

// The candidates execvp would try for argv0 with this PATH.
std::vector<std::string> ExecCandidates(const std::string& argv0, const char* path_env);

// SIGKILLs process group `pgid` and every descendant of the calling process
// (walking /proc/<pid>/task/<tid>/children), except `spare`.
void KillTree(pid_t pgid, pid_t spare = -1);

}  // namespace sandtrace
