#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter, or fail saying how to get one.
# Usage: scripts/find-python.sh 3.10
# Looks for pythonX.Y on the PATH; a pyenv shim that is not activated ("command not found")
# is resolved through pyenv to the installed X.Y.z. `make test` uses this for every Python
# that OBS loads, and a missing one is an error, never a skip.
set -euo pipefail
want="${1:?usage: $0 X.Y}"
check='import sys; print("%d.%d" % sys.version_info[:2])'

works() {  # works PATH: the interpreter runs and is the wanted X.Y
  [ -x "$1" ] && [ "$("$1" -c "$check" 2>/dev/null)" = "$want" ]
}

candidate="$(command -v "python$want" 2>/dev/null || true)"
if [ -n "$candidate" ] && works "$candidate"; then
  # A shim resolves on every call; give the real interpreter so a venv does not depend on it.
  "$candidate" -c 'import sys; print(sys.executable)'
  exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  version="$(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\\.[0-9]+)?$" | sort -V | tail -n 1 || true)"
  if [ -n "$version" ]; then
    candidate="$(PYENV_VERSION="$version" pyenv which "python$want" 2>/dev/null || true)"
    if [ -n "$candidate" ] && works "$candidate"; then
      echo "$candidate"
      exit 0
    fi
  fi
fi
cat >&2 <<EOF
error: Python $want not found (no working python$want on the PATH, nor in pyenv).
  make test runs the tests on every Python that OBS loads (3.10 to 3.13), so it needs this one.
  Install it: pyenv install $want   (or your system's package, e.g. apt-get install python$want python$want-venv)
EOF
exit 1
