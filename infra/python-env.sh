#!/usr/bin/env bash
# The project's virtualenv (.venv) with every Python dependency, pinned by constraints.txt.
#   infra/python-env.sh            # create or update; quick when nothing changed
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
stamp="$venv/.installed"

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if have_cmd "$candidate" && python_ok "$candidate"; then python="$candidate"; break; fi
done
if [ -z "$python" ]; then
  # Debian 12's python3 is 3.11; venv and ensurepip come in a separate package.
  apt_install python3 python3-venv
  python=python3
  python_ok "$python" || die "need Python >= 3.11 with venv"
fi

if [ -f "$stamp" ] && [ "$stamp" -nt "$repo/pyproject.toml" ] && [ "$stamp" -nt "$repo/constraints.txt" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# uv installs the same wheels as pip, about ten times faster.
[ -x "$venv/bin/uv" ] || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
log "installing Python dependencies into .venv"
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -c "$repo/constraints.txt" -e "${repo}[dev]"
touch "$stamp"
