#include "tests/replay/replay_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "cow/handlers/cow_session.h"
#include "cow/handlers/disposition.h"
#include "formats/trace_reader.h"
#include "formats/trace_writer.h"
#include "replay/scratch.h"
#include "tracer/core/seed_handlers.h"
#include "tracer/kernel_features.h"
#include "tracer/record/header.h"
#include "tracer/record/recorder.h"
#include "tracer/supervisor.h"

namespace sandtrace::replay_test {

TempDir::TempDir(const std::string& base) {
  std::string t = base + "/replay-test-XXXXXX";
  if (mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp in " + base);
  path_ = t;
}

TempDir::~TempDir() { (void)replay::RemoveScratchTree(path_); }

void WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("create " + path);
  if (write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    close(fd);
    throw std::runtime_error("write " + path);
  }
  fchmod(fd, mode);
  close(fd);
}

std::string ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

Recorded RecordCow(const RecordSpec& spec) {
  Recorded out;
  KernelFeatures features = ProbeKernelFeatures(true);
  HandlerRegistry registry;
  if (spec.seed) {
    if (Status s = AddSeedHandlers(registry, *spec.seed); !s.ok()) {
      out.error = s.error().Message();
      return out;
    }
  }
  auto writer = trace::TraceWriter::Open(spec.trace);
  if (!writer.ok()) {
    out.error = writer.error().Message();
    return out;
  }
  record::RecorderOptions ro;
  ro.snapshot = spec.snapshot;
  ro.process_monitor = false;
  record::Recorder recorder(**writer, ro);

  cow::CowSessionOptions so;
  so.workdir = spec.workdir;
  so.quota_bytes = spec.quota;
  so.observer = &recorder;
  so.writable_paths = spec.write_paths;
  auto session = cow::CowSession::Create(so);
  if (!session.ok()) {
    out.error = session.error().Message();
    return out;
  }
  if (Status s = (*session)->Register(registry); !s.ok()) {
    out.error = s.error().Message();
    return out;
  }
  RunOptions run;
  run.argv = spec.argv;
  run.workdir = (*session)->workdir();
  run.landlock = features.landlock_abi > 0;
  run.write_paths = spec.write_paths;
  run.open_rw_paths = {(*session)->fifo_dir()};
  run.foreground_tty = false;

  record::HeaderInputs hi;
  hi.features = features;
  hi.run = run;
  hi.cwd = (*session)->workdir();
  hi.workdir = (*session)->workdir();
  hi.policy.quota_bytes = spec.quota;
  hi.policy.seed = spec.seed.value_or(0);
  hi.policy.disposition =
      spec.commit ? trace::Disposition::kCommitOnSuccess : trace::Disposition::kDiscard;
  if (spec.name_storage) hi.policy.options.push_back({"storage", (*session)->storage()});
  hi.handler_sets = registry.set_names();
  if (Status s = recorder.Begin(record::BuildHeader(hi)); !s.ok()) {
    out.error = s.error().Message();
    return out;
  }
  Supervisor sup(registry, features);
  sup.set_observer(&recorder);
  sup.set_tick(std::chrono::milliseconds(100), [&recorder] { recorder.Tick(); });
  auto r = sup.Run(run);
  if (!r.ok()) {
    out.error = r.error().Message();
    (void)(*session)->overlay().Abort();
    return out;
  }
  out.exit_code = r->exit_code;
  // The change list before EndRun, as tracer/record/record_run.cc does: the
  // lower paths it reads belong in the snapshot.
  auto changes = (*session)->overlay().Changes();
  (void)recorder.EndRun();
  (void)recorder.WriteSnapshot((*session)->workdir());
  if (changes.ok()) (void)recorder.WriteChanges(*changes);
  std::FILE* sink = std::fopen("/dev/null", "we");
  auto fin = cow::FinishSession(**session,
                                spec.commit ? cow::Disposition::kAuto : cow::Disposition::kDiscard,
                                r->exited && r->status == 0, sink != nullptr ? sink : stderr);
  if (sink != nullptr) std::fclose(sink);
  (void)fin;
  if (Status s = recorder.Finish(r->exited ? r->status : 0, r->term_signal, r->abort_error.empty());
      !s.ok()) {
    out.error = s.error().Message();
  }
  if (!r->abort_error.empty()) out.error = "aborted: " + r->abort_error;
  out.events = recorder.stats().events;
  return out;
}

std::vector<trace::Record> ReadRecords(const std::string& path) {
  auto reader = trace::TraceReader::Open(path);
  if (!reader.ok()) throw std::runtime_error("open " + path + ": " + reader.error().Message());
  std::vector<trace::Record> out;
  trace::Record rec;
  for (;;) {
    auto more = (*reader)->Next(rec);
    if (!more.ok()) throw std::runtime_error("read " + path + ": " + more.error().Message());
    if (!*more) break;
    out.push_back(rec);
  }
  return out;
}

void WriteRecords(const std::string& path, const std::vector<trace::Record>& records) {
  trace::WriterOptions wo;
  wo.fsync_on_close = false;
  auto writer = trace::TraceWriter::Open(path, wo);
  if (!writer.ok()) throw std::runtime_error("create " + path);
  for (const trace::Record& r : records) {
    if (Status s = (*writer)->Write(r); !s.ok()) throw std::runtime_error("write " + path);
  }
  if (Status s = (*writer)->Close(); !s.ok()) throw std::runtime_error("close " + path);
}

Ran RunCommand(const std::vector<std::string>& argv) {
  Ran ran;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return ran;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? ran.out : ran.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return ran;
}

}  // namespace sandtrace::replay_test
