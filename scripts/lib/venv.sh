# Sourced by scripts/start.sh, scripts/test.sh and scripts/lock.sh. The Python packages come from uv.lock and
# nothing else: ensure_uv installs the pinned uv (scripts/lib/uv-requirements.txt, hash-checked) into .tools/,
# ensure_venv installs exactly the locked versions into .venv (uv checks every file against the lock's hash).
# Idempotent: it reinstalls only when uv.lock, pyproject.toml, the uv pin, the requested extras or the request
# to compile bytecode (UV_COMPILE_BYTECODE, which uv reads) change.

ensure_python() {
  if ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    echo "Python 3.11 is needed (python3 is $(python3 --version 2>&1))." >&2
    return 1
  fi
}

# Sets UV to the pinned uv, installing it first if needed (pip only bootstraps uv; it installs nothing else).
ensure_uv() {
  local version target
  ensure_python || return 1
  version="$(sed -n 's/^uv==\([^ ]*\) .*/\1/p' scripts/lib/uv-requirements.txt)"
  target=".tools/uv-$version"
  UV="$PWD/$target/bin/uv"
  export UV_PYTHON_DOWNLOADS=never  # the machine's Python 3.11, never one uv downloads
  [ -x "$UV" ] && return 0
  echo "Installing uv $version, the installer (hash-checked; log in .tools/install.log) ..."
  mkdir -p .tools && rm -rf "$target.partial"
  if ! {
    { python3 -m pip --version || install_pip; } &&
    # --target: into a folder of its own, which also works where Debian forbids pip in the system Python.
    python3 -m pip install --no-deps --require-hashes --target "$target.partial" -r scripts/lib/uv-requirements.txt
  } > .tools/install.log 2>&1; then
    tail -n 20 .tools/install.log >&2
    echo "Installing uv failed; the whole log is in .tools/install.log." >&2
    return 1
  fi
  mv "$target.partial" "$target"  # only a complete install is ever taken as installed
}

install_pip() {
  # A fresh Debian has python3 without pip.
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip
}

# The local files uv.lock installs from (torch's wheel) that this machine lacks, one a line.
missing_locked_files() {
  local path
  sed -n 's/^source = { path = "\([^"]*\)" }$/\1/p' uv.lock | while read -r path; do
    [ -e "$path" ] || echo "$path"
  done
}

# ensure_venv EXTRAS: .venv holds exactly the locked packages of the project with these extras (comma-separated,
# e.g. "eval,dev"; "" for the web platform alone), the project itself installed editable.
ensure_venv() {
  local extras="$1" want stamp mode log extra
  local -a list=()
  local -a flags=()
  ensure_uv || return 1
  want="$(cat uv.lock pyproject.toml scripts/lib/uv-requirements.txt | sha256sum | cut -c1-16)-$extras"
  want="$want${UV_COMPILE_BYTECODE:+-compiled}"  # test.sh asks uv to compile the bytecode too
  stamp=.venv/.lagc-installed
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  IFS=, read -ra list <<< "$extras"
  for extra in "${list[@]}"; do flags+=(--extra "$extra"); done
  # --locked refuses a uv.lock that no longer matches pyproject.toml (run scripts/lock.sh). Checking that reads
  # every local file the lock names; on a machine without torch's wheel (web-only, a site's agent) install the
  # lock as it is (--frozen): the tests check the match, and an extra that needs the missing file still fails.
  mode=--locked
  [ -z "$(missing_locked_files)" ] || mode=--frozen
  [ ! -e .venv ] || [ -x .venv/bin/python ] || rm -rf .venv  # the leftover of a failed first install
  echo "Installing the platform's Python packages from uv.lock into .venv (extras: ${extras:-none}; log in .venv/install.log) ..."
  log="$(mktemp)"
  rm -f "$stamp"
  if ! "$UV" sync "$mode" --python python3 "${flags[@]}" > "$log" 2>&1; then
    mkdir -p .venv && mv "$log" .venv/install.log
    tail -n 40 .venv/install.log >&2
    echo "Installing the Python packages failed; the whole log is in .venv/install.log." >&2
    return 1
  fi
  mv "$log" .venv/install.log
  echo "$want" > "$stamp"
}
