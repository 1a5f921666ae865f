#include "replay/inspect/trace_open.h"

#include <cerrno>

namespace sandtrace::inspect {

Result<std::unique_ptr<trace::TraceReader>> OpenTrace(const std::string& path) {
  return trace::TraceReader::Open(path);
}

std::string ErrorLine(const Error& error) {
  // The reader words these itself; strerror would only add noise such as
  // "Bad message" after "not a sandtrace trace".
  switch (error.code) {
    case EBADMSG:
    case EPROTONOSUPPORT:
    case EINVAL:
      if (!error.context.empty()) return error.context;
      break;
    default:
      break;
  }
  return error.Message();
}

}  // namespace sandtrace::inspect
