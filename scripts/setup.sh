#!/usr/bin/env bash
# Installs what xxgk needs on a fresh Debian machine: system tools, then a venv with the package.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's python3 is one executable built optimised; the pyenv python3 first on this machine's PATH
# is a shared-library build (every call into the interpreter through the PLT) without
# --enable-optimizations: the parser runs ~10 % faster on Debian's. Used where it is 3.11 or newer.
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  /usr/bin/python3 -c "import sys; assert sys.version_info >= (3, 11)" 2>/dev/null && PYTHON=/usr/bin/python3
fi

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)          # tests compare with pdftotext
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)  # DOC and WPS files
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)  # store tests start their own server
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # browser tests drive Debian's chromium
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || need+=(libharfbuzz-subset0)  # WeasyPrint font subsetting
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-zenhei)  # CJK in rendered PDFs
fc-list 2>/dev/null | grep -qi "noto serif cjk" || need+=(fonts-noto-cjk)  # compose: serif body, sans headings
command -v gcc >/dev/null 2>&1 || need+=(gcc)  # mypyc compiles the extraction (setup.py)
"$PYTHON" -c "import os, sysconfig; assert os.path.exists(sysconfig.get_paths()['include'] + '/Python.h')" \
  2>/dev/null || need+=(python3-dev)  # and needs Python's headers
[ "$PYTHON" != /usr/bin/python3 ] || /usr/bin/python3 -c "import ensurepip" 2>/dev/null || need+=(python3-venv)
if ((${#need[@]})); then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --upgrade pip
# the extraction's hot modules are compiled by mypyc when gcc and Python's headers are here (setup.py;
# XXGK_PURE=1 builds and runs pure Python)
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
