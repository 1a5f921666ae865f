# Install rules (`make install`, `cmake --install BUILD [--prefix P]`):
#  - bin/trace
#  - the trace-reading libraries (base, core, formats, formats_synthetic,
#    inspect) with their headers under include/sandtrace/, so a consumer
#    includes "formats/trace_reader.h" exactly as the tree does
#  - a CMake package: find_package(sandtrace) gives sandtrace::base,
#    sandtrace::core, sandtrace::formats, sandtrace::formats_synthetic and
#    sandtrace::inspect (the consumer's project() must enable C as well as
#    CXX: Debian's CapnProto config needs it)
#  - the schema as share/sandtrace/trace.capnp
#  - the man page trace(1), generated at build time from `trace --help` and
#    every subcommand's --help (cmake/trace_man.cmake)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SANDTRACE_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/sandtrace)
set(SANDTRACE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/sandtrace)

# The exported libraries and the name consumers use for each.
set(SANDTRACE_EXPORTED_LIBS
  sandtrace_base:base
  sandtrace_core:core
  sandtrace_formats:formats
  sandtrace_formats_synthetic:formats_synthetic
  sandtrace_inspect:inspect)
set(_sandtrace_export_targets)
foreach(pair ${SANDTRACE_EXPORTED_LIBS})
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 target)
  list(GET pair 1 export_name)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  list(APPEND _sandtrace_export_targets ${target})
endforeach()

# base publishes the source root as its include directory; an installed
# copy must point at the installed headers instead.
set_property(TARGET sandtrace_base PROPERTY INTERFACE_INCLUDE_DIRECTORIES
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<INSTALL_INTERFACE:${SANDTRACE_INSTALL_INCLUDEDIR}>)

install(TARGETS trace RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${_sandtrace_export_targets}
  EXPORT sandtraceTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The public headers of those libraries, in the tree's layout. formats/
# codec.h is internal (it includes the generated Cap'n Proto header).
foreach(dir tracer/base tracer/core formats replay/inspect)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
    DESTINATION ${SANDTRACE_INSTALL_INCLUDEDIR}/${dir}
    FILES_MATCHING PATTERN "*.h"
    PATTERN "codec.h" EXCLUDE)
endforeach()

install(EXPORT sandtraceTargets
  NAMESPACE sandtrace::
  DESTINATION ${SANDTRACE_INSTALL_CMAKEDIR})
file(WRITE ${PROJECT_BINARY_DIR}/cmake/sandtraceConfig.cmake
"# sandtrace CMake package: find_package(sandtrace) then link sandtrace::inspect,
# sandtrace::formats, ... The consumer's project() must enable C and CXX.
include(CMakeFindDependencyMacro)
find_dependency(CapnProto)
find_dependency(zstd)
include(\"\${CMAKE_CURRENT_LIST_DIR}/sandtraceTargets.cmake\")
")
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/sandtraceConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/sandtraceConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/sandtraceConfigVersion.cmake
  DESTINATION ${SANDTRACE_INSTALL_CMAKEDIR})

install(FILES ${PROJECT_SOURCE_DIR}/formats/trace.capnp
  DESTINATION ${CMAKE_INSTALL_DATADIR}/sandtrace)

# trace(1) from the help text, rebuilt whenever `trace` is.
set(SANDTRACE_MAN_PAGE ${PROJECT_BINARY_DIR}/man/trace.1)
add_custom_command(
  OUTPUT ${SANDTRACE_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND}
    -DTRACE=$<TARGET_FILE:trace>
    -DOUTPUT=${SANDTRACE_MAN_PAGE}
    -DVERSION=${PROJECT_VERSION}
    -P ${PROJECT_SOURCE_DIR}/cmake/trace_man.cmake
  DEPENDS trace ${PROJECT_SOURCE_DIR}/cmake/trace_man.cmake
  COMMENT "Generating trace(1) from the help text"
  VERBATIM)
add_custom_target(trace_man ALL DEPENDS ${SANDTRACE_MAN_PAGE})
install(FILES ${SANDTRACE_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
