#!/usr/bin/env bash
# Bootstraps the virtualenv (and, as root with apt, the CJK font and for tests a PostgreSQL server).
set -euo pipefail
venv=${1:-.venv}
mode=${2:-}
cd "$(dirname "$0")/.."

apt_install() {
  # Only as root on Debian; elsewhere the user installs the packages named in the README.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  fi
}

apt_install fonts-noto-cjk fontconfig
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [ "$mode" = --test ]; then
  apt_install postgresql chromium  # chromium: notice.html verifies in a real browser
  apt_install openssh-server tmux  # tests/test_ssh.py: the kiosk through a real sshd
  "$venv/bin/python" -m pip install -q -e '.[test]'
else
  "$venv/bin/python" -m pip install -q -e .
fi
