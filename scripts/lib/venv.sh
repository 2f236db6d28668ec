# Sourced by scripts/start.sh and scripts/test.sh: make (or refresh) the virtual environment in .venv.
# Idempotent: it reinstalls only when pyproject.toml, constraints.txt or the requested extras change.

ensure_venv() {
  local extras="$1" stamp want
  if ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    echo "Python 3.11 is needed (python3 is $(python3 --version 2>&1))." >&2
    return 1
  fi
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
      # A fresh Debian has python3 without the venv module.
      rm -rf .venv
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv .venv
    fi
  fi
  want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-$extras"
  stamp=.venv/.lagc-installed
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing the platform's Python packages into .venv (extras: $extras; log in .venv/install.log) ..."
    if ! {
      .venv/bin/python -m pip install -q --upgrade pip &&
      # torch first, pinned to the CPU build, so nothing pulls a multi-GB CUDA build.
      case ",$extras," in *,eval,*) .venv/bin/pip install -q -c constraints.txt "torch==2.13.0" ;; esac &&
      .venv/bin/pip install -q -c constraints.txt -e ".[$extras]"
    } > .venv/install.log 2>&1; then
      tail -n 40 .venv/install.log >&2
      echo "Installing the Python packages failed; the whole log is in .venv/install.log." >&2
      return 1
    fi
    echo "$want" > "$stamp"
  fi
}
