#!/usr/bin/env bash
# install.deb: run cpack -G DEB for the build tree (into a temporary directory,
# so the build tree is left as it was) and check both packages: their contents
# (binary, man page, the three completions; library, headers, CMake package)
# and that the Depends of taskctl are the Debian runtime libraries that
# dpkg-shlibdeps found.
#
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR [RUNTIME_PACKAGE...]
#   RUNTIME_PACKAGE: a package taskctl's Depends must name (libsqlite3-0 ...)
# Environment: CPACK (cpack to use).
set -euo pipefail

build_dir=$1
source_dir=$2
shift 2
runtime_packages=("$@")
cpack=${CPACK:-cpack}

work=$(mktemp -d "${TMPDIR:-/tmp}/taskctl-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps not found (install dpkg-dev)"

echo "==> cpack -G DEB"
"$cpack" -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log" >&2
  fail "cpack failed"
}
if grep -i 'warning' "$work/cpack.log"; then
  fail "cpack printed warnings"
fi

shopt -s nullglob
debs=("$work"/taskctl_*.deb)
devs=("$work"/libtaskstore-dev_*.deb)
[ "${#debs[@]}" -eq 1 ] || fail "expected one taskctl_*.deb, found: $(ls "$work")"
[ "${#devs[@]}" -eq 1 ] || fail "expected one libtaskstore-dev_*.deb, found: $(ls "$work")"
deb=${debs[0]}
dev=${devs[0]}

# Prints the value of control field $2 of package $1.
field() {
  dpkg-deb -f "$1" "$2"
}

# Fails unless package $1 lists path $2 (as ./path).
has_file() {
  grep -qxF "./$2" <(dpkg-deb -c "$1" | awk '{print $6}') || fail "$(basename "$1") lacks $2"
  echo "$(basename "$1"): $2"
}

echo "==> $(basename "$deb")"
dpkg-deb -I "$deb"
[ "$(field "$deb" Package)" = taskctl ] || fail "package name is not taskctl"
[ -n "$(field "$deb" Maintainer)" ] || fail "no Maintainer"
[ -n "$(field "$deb" Description)" ] || fail "no Description"
has_file "$deb" usr/bin/taskctl
has_file "$deb" usr/share/man/man1/taskctl.1.gz
has_file "$deb" usr/share/bash-completion/completions/taskctl
has_file "$deb" usr/share/zsh/vendor-completions/_taskctl
has_file "$deb" usr/share/fish/vendor_completions.d/taskctl.fish
depends=$(field "$deb" Depends)
echo "Depends: $depends"
# The package names of Depends, one per line ("libc6 (>= 2.34), a | b" -> libc6 a b).
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed -E 's/\(.*\)//; s/^ +//; s/ +$//' | grep -v '^$')
for lib in libc6 libstdc++6 "${runtime_packages[@]}"; do
  grep -qxF -- "$lib" <<<"$depends_names" || fail "Depends lacks $lib"
done
# The packaged page is the committed one, compressed.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man1/taskctl.1.gz | gzip -dc >"$work/taskctl.1"
cmp -s "$work/taskctl.1" "$source_dir/man/taskctl.1" || fail "packaged man page differs from man/taskctl.1"

# The packaged (stripped) binary runs.
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/taskctl" --version >"$work/version.txt" || fail "the packaged taskctl does not run"
echo "packaged taskctl --version: $(head -n1 "$work/version.txt")"

echo "==> $(basename "$dev")"
dpkg-deb -I "$dev"
has_file "$dev" usr/include/taskstore/registry.hpp
has_file "$dev" usr/include/taskstore/backends/memory.hpp
lib=$(dpkg-deb -c "$dev" | awk '{print $6}' | grep -E '/libtaskstore\.a$' | head -n1)
[ -n "$lib" ] || fail "libtaskstore-dev lacks libtaskstore.a"
has_file "$dev" "${lib#./}"
has_file "$dev" "$(dirname "${lib#./}")/cmake/taskstore/taskstoreConfig.cmake"
if dpkg-deb -c "$dev" | grep -qE 'aws_|builder\.hpp|validate_input\.hpp|backends/redis/'; then
  fail "libtaskstore-dev ships an internal header"
fi
dev_depends=$(field "$dev" Depends)
echo "Depends: $dev_depends"
grep -q nlohmann-json3-dev <<<"$dev_depends" || fail "libtaskstore-dev Depends lacks nlohmann-json3-dev"
echo "PASS"
