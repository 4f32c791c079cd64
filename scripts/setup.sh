#!/usr/bin/env bash
# Install coopter-assistant in ./.venv, offline-ready. Usage: bash scripts/setup.sh [--test] [--browser]
#   --test     also the test tools (pytest, fpdf2, playwright)
#   --browser  also Debian's chromium for the real-browser test (needs apt, as root)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras=""
browser=0
for arg in "$@"; do
  case "$arg" in
    --test) extras="[test]" ;;
    --browser) browser=1 ;;
    *) echo "option inconnue : $arg" >&2; exit 2 ;;
  esac
done
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned: the CPU build. Anything else lets pip pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".${extras}"
if [ "$browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
  else
    echo "chromium absent et apt indisponible : le test navigateur sera ignoré" >&2
  fi
fi
echo "Installé dans .venv — essayez : .venv/bin/coopter --help"
