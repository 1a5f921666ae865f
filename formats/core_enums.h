// The tracer's enums (tracer/core) in the trace's terms. The trace's enums
// are numbered differently (each starts with unknown @0), so the recorder
// and replay both convert; this is the one place that says how. Inline,
// so formats needs the core headers but not the core library.
#pragma once

#include "formats/records.h"
#include "tracer/core/notification.h"
#include "tracer/core/tracee.h"

namespace sandtrace {

inline trace::ProcLink ToTrace(ProcLink link) {
  switch (link) {
    case ProcLink::kCwd:
      return trace::ProcLink::kCwd;
    case ProcLink::kFd:
      return trace::ProcLink::kFd;
    case ProcLink::kRoot:
      return trace::ProcLink::kRoot;
    case ProcLink::kExe:
      return trace::ProcLink::kExe;
  }
  return trace::ProcLink::kUnknown;
}

inline trace::HostOp ToTrace(HostOp op) {
  switch (op) {
    case HostOp::kStat:
      return trace::HostOp::kStat;
    case HostOp::kAccess:
      return trace::HostOp::kAccess;
    case HostOp::kReadlink:
      return trace::HostOp::kReadlink;
    case HostOp::kReach:
      return trace::HostOp::kReach;
    case HostOp::kOpen:
      return trace::HostOp::kOpen;
    case HostOp::kChange:
      return trace::HostOp::kChange;
  }
  return trace::HostOp::kUnknown;
}

inline trace::FileRoot ToTrace(FileRoot root) {
  switch (root) {
    case FileRoot::kUpper:
      return trace::FileRoot::kUpper;
    case FileRoot::kLower:
      return trace::FileRoot::kLower;
    case FileRoot::kOutside:
      return trace::FileRoot::kOutside;
    case FileRoot::kUnknown:
      break;
  }
  return trace::FileRoot::kUnknown;
}

inline trace::DecisionKind ToTrace(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::kContinue:
      return trace::DecisionKind::kContinue;
    case DecisionKind::kReturn:
      return trace::DecisionKind::kReturn;
    case DecisionKind::kErrno:
      return trace::DecisionKind::kErrno;
    case DecisionKind::kInjectFd:
      return trace::DecisionKind::kInjectFd;
    case DecisionKind::kRestart:
      return trace::DecisionKind::kRestart;
  }
  return trace::DecisionKind::kUnknown;
}

}  // namespace sandtrace
