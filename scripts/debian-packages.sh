# Sourced by the scripts that need Debian packages: install_packages WHAT PACKAGE… installs them when missing (as
# root; others are told the apt-get command), updating the package lists only if a first try fails.
install_packages() {
  local what=$1
  shift
  if [ "$(id -u)" != 0 ]; then
    echo "$what needs Debian's $*: apt-get install $*" >&2
    exit 1
  fi
  echo "installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}
