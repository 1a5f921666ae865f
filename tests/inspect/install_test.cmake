# The InspectInstall test: installs the build tree into a fresh prefix,
# checks what landed there, then configures, builds and runs a consumer
# project that calls find_package(sandtrace).
#   cmake -DBUILD_DIR=... -DCONSUMER_DIR=... -DWORK_DIR=... -DGOLDEN_TRACE=... -P install_test.cmake
foreach(var BUILD_DIR CONSUMER_DIR WORK_DIR GOLDEN_TRACE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# What must be there (the library directory may be lib or lib/<multiarch>).
file(GLOB_RECURSE config ${prefix}/*/sandtraceConfig.cmake)
file(GLOB_RECURSE version ${prefix}/*/sandtraceConfigVersion.cmake)
file(GLOB_RECURSE targets ${prefix}/*/sandtraceTargets.cmake)
file(GLOB_RECURSE inspect_lib ${prefix}/*/libsandtrace_inspect.a)
file(GLOB_RECURSE formats_lib ${prefix}/*/libsandtrace_formats.a)
foreach(found config version targets inspect_lib formats_lib)
  if(NOT ${found})
    message(FATAL_ERROR "not installed: ${found}")
  endif()
endforeach()
foreach(file
    bin/trace
    include/sandtrace/formats/trace_reader.h
    include/sandtrace/formats/records.h
    include/sandtrace/formats/json.h
    include/sandtrace/tracer/base/result.h
    include/sandtrace/tracer/core/syscall_table.h
    include/sandtrace/replay/inspect/dump.h
    include/sandtrace/replay/inspect/info.h
    share/sandtrace/trace.capnp
    share/man/man1/trace.1)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
if(EXISTS ${prefix}/include/sandtrace/formats/codec.h)
  message(FATAL_ERROR "the internal formats/codec.h was installed")
endif()

# The man page is the help text: every subcommand has a section.
file(READ ${prefix}/share/man/man1/trace.1 man)
foreach(sub dump stats diff export info)
  string(FIND "${man}" ".SS trace ${sub}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "trace.1 has no section for ${sub}")
  endif()
endforeach()
string(FIND "${man}" "Examples:" at)
if(at EQUAL -1)
  message(FATAL_ERROR "trace.1 lacks the examples of the help text")
endif()

# The installed binary runs on its own.
run(${prefix}/bin/trace info ${GOLDEN_TRACE})
string(FIND "${run_output}" "end:         clean" at)
if(at EQUAL -1)
  message(FATAL_ERROR "installed trace info printed:\n${run_output}")
endif()

# A consumer project finds the package and reads a trace with it.
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer ${GOLDEN_TRACE})
if(NOT run_output STREQUAL "make: 14 events, 5 process events, clean 1\n")
  message(FATAL_ERROR "consumer printed: ${run_output}")
endif()
message(STATUS "install and find_package(sandtrace) work")
