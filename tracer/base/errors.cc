#include "tracer/base/errors.h"

#include <cerrno>
#include <cstring>

namespace sandtrace {

void ThrowErrno(const std::string& context) { ThrowErrno(context, errno); }

void ThrowErrno(const std::string& context, int err) {
  throw Fatal(context + ": " + std::strerror(err));
}

}  // namespace sandtrace
