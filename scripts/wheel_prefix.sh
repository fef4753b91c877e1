# Sourced by the setup_*.sh scripts that unpack C/C++ libraries from PyPI wheels into a
# project-local prefix (.deps/<name>); not run on its own.

# prefix_is_current TAG PREFIX VERSION: true (and says so) when PREFIX already holds VERSION,
# so the download can be skipped.
prefix_is_current() {
  if [ -f "$2/VERSION" ] && [ "$(cat "$2/VERSION")" = "$3" ]; then
    echo "$1: $3 already in $2"
    return 0
  fi
  return 1
}

# wheel_platform TAG: the manylinux platform tag whose wheels carry this machine's libraries.
# The C++ libraries inside do not depend on the Python version, so any cp3xx wheel serves.
wheel_platform() {
  case "$(uname -m)" in
    x86_64) echo manylinux_2_28_x86_64 ;;
    aarch64) echo manylinux_2_28_aarch64 ;;
    *) echo "$1: no wheel for $(uname -m)" >&2; return 1 ;;
  esac
}
