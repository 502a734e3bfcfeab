# Installation and packaging (included from the top-level CMakeLists.txt).
#
#   cmake --install BUILD [--prefix P] [--component taskctl|dev]
#     taskctl  bin/taskctl, share/man/man1/taskctl.1 and the bash, zsh and fish
#              completions in each shell's standard vendor location
#     dev      lib/libtaskstore.a, include/taskstore/**.hpp and the CMake package
#              lib/cmake/taskstore (find_package(taskstore) -> taskstore::taskstore)
#   cpack -G DEB
#     taskctl_<version>_<arch>.deb           (component taskctl; Depends from dpkg-shlibdeps)
#     libtaskstore-dev_<version>_<arch>.deb  (component dev; Depends on the -dev packages)

include(CMakePackageConfigHelpers)

option(TASKCTL_INSTALL "Generate the install rules and the CPack configuration" ${PROJECT_IS_TOP_LEVEL})
if(NOT TASKCTL_INSTALL)
  return()
endif()

set(TASKCTL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/taskstore
    CACHE STRING "Where the taskstore CMake package is installed (relative to the prefix)")
set(TASKCTL_INSTALL_BASH_COMPLETIONDIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    CACHE STRING "Where the bash completion is installed (relative to the prefix)")
set(TASKCTL_INSTALL_ZSH_COMPLETIONDIR ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
    CACHE STRING "Where the zsh completion is installed (Debian's vendor location)")
set(TASKCTL_INSTALL_FISH_COMPLETIONDIR ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
    CACHE STRING "Where the fish completion is installed (relative to the prefix)")

# --- The command-line tool, its man page and completions (component taskctl) ---

# All of it only when the tool is built (TASKCTL_BUILD_CLI).
if(TARGET taskctl)
  install(TARGETS taskctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT taskctl)

  # The generated roff is committed (man/taskctl.md is its source, scripts/gen-man
  # turns one into the other), so installing needs no documentation tools.
  install(FILES ${PROJECT_SOURCE_DIR}/man/taskctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT taskctl)

  set(taskctl_completions_dir ${PROJECT_SOURCE_DIR}/completions)
  install(FILES ${taskctl_completions_dir}/taskctl.bash RENAME taskctl
          DESTINATION ${TASKCTL_INSTALL_BASH_COMPLETIONDIR} COMPONENT taskctl)
  install(FILES ${taskctl_completions_dir}/_taskctl
          DESTINATION ${TASKCTL_INSTALL_ZSH_COMPLETIONDIR} COMPONENT taskctl)
  install(FILES ${taskctl_completions_dir}/taskctl.fish
          DESTINATION ${TASKCTL_INSTALL_FISH_COMPLETIONDIR} COMPONENT taskctl)
endif()

# --- The taskstore library, its headers and CMake package (component dev) ---

install(TARGETS taskstore EXPORT taskstoreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
# (The include directory comes from the target's $<INSTALL_INTERFACE:...>.)

# Public headers only: the top-level module headers, plus the factory header of
# each backend compiled in (a header whose backend is missing would only give
# link errors). Internal headers of a backend (aws_*.hpp, redis/) stay private.
# Internal headers (validate_input.hpp, validate_checker.hpp, json/builder.hpp: they expose
# nlohmann::detail or implementation classes) are not installed.
file(GLOB taskstore_public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/taskstore/*.hpp)
list(FILTER taskstore_public_headers EXCLUDE REGEX "/validate_(input|checker)\\.hpp$")
install(FILES ${taskstore_public_headers}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/taskstore COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/lib/taskstore/json/serde.hpp
              ${PROJECT_SOURCE_DIR}/lib/taskstore/json/parse.hpp
              ${PROJECT_SOURCE_DIR}/lib/taskstore/json/peek.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/taskstore/json COMPONENT dev)
set(taskstore_backend_headers memory.hpp)
set(taskstore_backends memory)
if(TASKCTL_WITH_SQLITE)
  list(APPEND taskstore_backend_headers sqlite.hpp)
  list(APPEND taskstore_backends sqlite)
endif()
if(TASKCTL_WITH_REDIS)
  list(APPEND taskstore_backend_headers redis.hpp)
  list(APPEND taskstore_backends redis)
endif()
if(TASKCTL_WITH_DYNAMODB)
  list(APPEND taskstore_backend_headers dynamodb.hpp)
  list(APPEND taskstore_backends dynamodb)
endif()
list(TRANSFORM taskstore_backend_headers PREPEND ${PROJECT_SOURCE_DIR}/lib/taskstore/backends/)
install(FILES ${taskstore_backend_headers}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/taskstore/backends COMPONENT dev)

install(EXPORT taskstoreTargets NAMESPACE taskstore::
        DESTINATION ${TASKCTL_INSTALL_CMAKEDIR} COMPONENT dev)

# taskstore is a static library that links SQLite3, hiredis and expat privately
# (libcurl is opened with dlopen by the DynamoDB backend); its exported link interface names those imported targets
# ($<LINK_ONLY:...>), so the config file recreates them from the options
# recorded here before it loads taskstoreTargets.cmake.
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/taskstoreConfig.cmake.in
  ${PROJECT_BINARY_DIR}/taskstoreConfig.cmake
  INSTALL_DESTINATION ${TASKCTL_INSTALL_CMAKEDIR}
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/taskstoreConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/taskstoreConfig.cmake
              ${PROJECT_BINARY_DIR}/taskstoreConfigVersion.cmake
        DESTINATION ${TASKCTL_INSTALL_CMAKEDIR} COMPONENT dev)

# --- Debian packages (cpack -G DEB) ---

set(CPACK_PACKAGE_NAME taskctl)
set(CPACK_PACKAGE_VENDOR "taskctl")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(TASKCTL_PACKAGE_CONTACT "taskctl maintainers <maintainers@taskctl.invalid>"
    CACHE STRING "Maintainer field of the Debian packages")
set(CPACK_PACKAGE_CONTACT "${TASKCTL_PACKAGE_CONTACT}")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/node_modules/" "/\\\\.tmp/")

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL taskctl dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TASKCTL_PACKAGE_CONTACT}")
# dpkg-shlibdeps (dpkg-dev) turns the binary's DT_NEEDED entries into the
# Debian runtime packages: libc6, libstdc++6, libsqlite3-0, libhiredis0.14,
# libutf8proc2 (the CLI's tables), ... libcurl4 is no DT_NEEDED entry (the
# DynamoDB backend opens it with dlopen, so runs without DynamoDB do not load
# its dependency tree): it is named here, and CPackDeb adds what
# dpkg-shlibdeps finds. So is libssl3, which the Redis backend opens with
# dlopen for rediss:// (docs/redis-tls.md).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(taskctl_dlopen_depends)
if(TASKCTL_WITH_REDIS)
  list(APPEND taskctl_dlopen_depends "libssl3")
endif()
if(TASKCTL_WITH_DYNAMODB)
  list(APPEND taskctl_dlopen_depends "libcurl4 (>= 7.75.0)")
endif()
list(JOIN taskctl_dlopen_depends ", " CPACK_DEBIAN_TASKCTL_PACKAGE_DEPENDS)

set(CPACK_COMPONENT_TASKCTL_DISPLAY_NAME "taskctl command-line tool")
set(CPACK_DEBIAN_TASKCTL_PACKAGE_NAME taskctl)
set(CPACK_DEBIAN_TASKCTL_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_TASKCTL_DESCRIPTION
    "Administration tool for MCP task-record stores
taskctl inspects, repairs, purges and validates the task records that MCP
servers built on pmcp-tasks keep in a versioned key-value store (SQLite,
Redis or DynamoDB). It ships with a man page and bash, zsh and fish
completion.")

set(CPACK_COMPONENT_DEV_DISPLAY_NAME "taskstore library (development files)")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libtaskstore-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "C++ library for MCP task-record stores (static library, headers)
taskstore is the storage layer of taskctl: a versioned key-value store
abstraction byte-compatible with pmcp-tasks, with memory, SQLite, Redis and
DynamoDB backends chosen by URI. Use it with find_package(taskstore) and
the target taskstore::taskstore.")
# The static library needs the development packages of what it links.
set(taskstore_dev_depends "nlohmann-json3-dev (>= 3.10)")
if(TASKCTL_WITH_SQLITE)
  list(APPEND taskstore_dev_depends libsqlite3-dev)
endif()
if(TASKCTL_WITH_REDIS)
  list(APPEND taskstore_dev_depends libhiredis-dev pkg-config libssl3) # libssl3: opened with dlopen
endif()
if(TASKCTL_WITH_DYNAMODB)
  list(APPEND taskstore_dev_depends "libcurl4 (>= 7.75.0)") # opened with dlopen: the library, not its headers
  list(APPEND taskstore_dev_depends libexpat1-dev libssl3) # expat linked; libcrypto opened with dlopen (SSO)
endif()
list(JOIN taskstore_dev_depends ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)

# CPackDeb puts CPACK_PACKAGE_DESCRIPTION_SUMMARY (the project description)
# in front of every component's description unless it is CPack's default, so
# each package would get the same synopsis line twice; the component
# descriptions above carry their own synopsis instead.
file(WRITE ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake [=[
# Generated by cmake/Install.cmake; read by cpack for each generator.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_DEFAULT_PACKAGE_DESCRIPTION_SUMMARY}")
endif()
]=])
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake)

# Debian ships man pages gzip-compressed (policy 12.1); compress them in the
# staging tree only, so `cmake --install` still installs the plain page.
file(WRITE ${PROJECT_BINARY_DIR}/CPackCompressManPages.cmake [=[
# Generated by cmake/Install.cmake; run by cpack after staging, before packaging.
file(GLOB_RECURSE pages LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*.[1-9]")
list(FILTER pages INCLUDE REGEX "/man/man[1-9]/[^/]+\\.[1-9]$")
foreach(page IN LISTS pages)
  execute_process(COMMAND gzip -9nf "${page}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip -9nf ${page} failed (${rc})")
  endif()
endforeach()
]=])
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_BINARY_DIR}/CPackCompressManPages.cmake)

include(CPack)
