#!/usr/bin/env bash
# install.consumer: `cmake --install` the build tree into a fresh prefix, check
# what landed where, then configure, build and run a small project outside the
# tree (tests/docs/consumer) against the installed taskstore package with
# find_package(taskstore), using only that prefix.
#
# Usage: install_test.sh BUILD_DIR CONSUMER_SOURCE_DIR [TASKCTL_EXPECTED(0|1)]
# Environment: CMAKE (cmake to use), CMAKE_GENERATOR, CXX (forwarded by CMake).
set -euo pipefail

build_dir=$1
consumer_src=$2
expect_taskctl=${3:-1}
cmake=${CMAKE:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

echo "==> cmake --install $build_dir --prefix $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log" >&2
  fail "cmake --install failed"
}

# GNUInstallDirs may pick lib or lib/<multiarch>; find the package where it went.
config=$(find "$prefix" -name taskstoreConfig.cmake -path '*/cmake/taskstore/*' | head -n1)
[ -n "$config" ] || fail "taskstoreConfig.cmake not installed"
libdir=$(dirname "$(dirname "$(dirname "$config")")")
expected=(
  "$libdir/libtaskstore.a"
  "$libdir/cmake/taskstore/taskstoreConfigVersion.cmake"
  "$libdir/cmake/taskstore/taskstoreTargets.cmake"
  "$prefix/include/taskstore/registry.hpp"
  "$prefix/include/taskstore/backend.hpp"
  "$prefix/include/taskstore/error.hpp"
  "$prefix/include/taskstore/backends/memory.hpp"
  "$prefix/include/taskstore/prepare.hpp"
  "$prefix/include/taskstore/summary.hpp"
  "$prefix/include/taskstore/json/serde.hpp"
  "$prefix/include/taskstore/json/parse.hpp"
  "$prefix/include/taskstore/json/peek.hpp"
)
if [ "$expect_taskctl" = 1 ]; then
  expected+=(
    "$prefix/bin/taskctl"
    "$prefix/share/man/man1/taskctl.1"
    "$prefix/share/bash-completion/completions/taskctl"
    "$prefix/share/zsh/vendor-completions/_taskctl"
    "$prefix/share/fish/vendor_completions.d/taskctl.fish"
  )
fi
for f in "${expected[@]}"; do
  [ -f "$f" ] || fail "not installed: ${f#"$prefix"/}"
  echo "installed: ${f#"$prefix"/}"
done
# Internal headers (they expose client libraries or nlohmann::detail) stay private.
for internal in 'aws_*' 'builder.hpp' 'validate_input.hpp' 'validate_checker.hpp' 'connection.hpp' 'scripts.hpp' 'walk.hpp'; do
  if find "$prefix/include" -name "$internal" | grep -q .; then
    fail "internal header $internal was installed"
  fi
done
if grep -rq 'nlohmann/detail\|nlohmann::detail\|hiredis\|curl/curl.h\|sqlite3.h\|utf8proc' "$prefix/include/taskstore"; then
  fail "an installed header exposes nlohmann::detail or a client library"
fi
if [ "$expect_taskctl" = 1 ]; then
  "$prefix/bin/taskctl" --version >"$work/version.txt" || fail "installed taskctl --version failed"
  echo "installed taskctl --version: $(head -n1 "$work/version.txt")"
fi

echo "==> building the consumer project against $prefix"
gen=()
if [ -n "${CMAKE_GENERATOR:-}" ]; then
  gen=(-G "$CMAKE_GENERATOR")
fi
"$cmake" -S "$consumer_src" -B "$work/consumer" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/configure.log" 2>&1 || {
  cat "$work/configure.log" >&2
  fail "configuring the consumer project failed"
}
grep -F "from $libdir/cmake/taskstore" "$work/configure.log" ||
  fail "find_package(taskstore) did not use the installed package"
"$cmake" --build "$work/consumer" >"$work/build.log" 2>&1 || {
  cat "$work/build.log" >&2
  fail "building the consumer project failed"
}
# The consumer must compile against the installed headers, not the source tree.
grep -qF -- "$prefix/include" "$work/consumer/compile_commands.json" ||
  fail "the consumer was not compiled against $prefix/include"
if grep -qF -- "/lib/taskstore" "$work/consumer/compile_commands.json"; then
  fail "the consumer was compiled against a source tree's lib/taskstore"
fi

echo "==> running the consumer"
uris=(mem://)
if grep -q 'taskstore_WITH_SQLITE ON' "$config"; then
  uris+=("sqlite:$work/consumer.db")
fi
"$work/consumer/consumer" "${uris[@]}" || fail "the consumer's checks failed"
if [ "${#uris[@]}" -gt 1 ]; then
  [ -s "$work/consumer.db" ] || fail "the consumer did not create its SQLite store"
fi
echo "PASS"
