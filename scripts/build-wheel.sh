#!/usr/bin/env bash
# Builds the wheel into OUTDIR from a copy of the checkout's files (tracked and new, not ignored),
# so the checkout itself gets no build/ or *.egg-info (setuptools writes both beside the sources).
#   bash scripts/build-wheel.sh OUTDIR [pip wheel options, e.g. -v]
set -euo pipefail
out=$(realpath -m "${1:?usage: scripts/build-wheel.sh OUTDIR [pip wheel options]}")
shift
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
src=$(mktemp -d "${TMPDIR:-/tmp}/nornir-anycast-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$src"
"$PY" -m pip wheel --no-deps --wheel-dir "$out" "$@" "$src"
