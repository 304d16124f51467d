#!/usr/bin/env bash
# Installs everything nornir_anycast and its lab need on Debian 12, as root. Idempotent.
#   bash scripts/install.sh         system packages, .venv with the package (editable) and dev tools,
#                                   BIRD 1.6's parser and the lab's anycast-healthchecker under .cache/,
#                                   the Debian 13 lab images (debootstrap, once per machine)
# A checkout keeps the lab's state and these caches in itself ($NORNIR_ANYCAST_HOME, see
# nornir_anycast/settings.py); the Debian packages are also what `render` checks files with.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(frr frr-pythontools bird2 nginx-light openssh-server openssh-client socat
              iproute2 nftables curl procps util-linux python3-venv
              debootstrap systemd-container)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: missing Debian packages (${missing[*]}); run as root" >&2
    exit 1
  fi
  echo "install.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps Debian from starting the packages' own services on the host.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

# BIRD 1.6's parser, to check the seed-style configs: Debian's `bird` conflicts with `bird2`,
# so it is unpacked beside it, never installed.
if [ ! -x .cache/bird1/usr/sbin/bird ]; then
  mkdir -p .cache/bird1-deb
  (cd .cache/bird1-deb && apt-get download -qq bird >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq bird; })
  dpkg -x .cache/bird1-deb/bird_*.deb .cache/bird1
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c 'import nornir_anycast, pytest, mypy' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  # setuptools leaves egg-info beside the sources; the venv's dist-info is the metadata, and a
  # stale copy on sys.path (tasks.py puts the checkout there) would shadow it.
  rm -rf nornir_anycast.egg-info
  touch .venv/.installed
fi

# anycast-healthchecker for the lab's servers (inventory: healthcheck.binary), from the
# requirement in pyproject's `lab` extra (it is a daemon for servers, not a dependency of the
# control machine's package). Lab hosts mount a /root of their own, so the project venv's
# interpreter (often under /root, e.g. pyenv) cannot run inside them: this copy runs on Debian's
# /usr/bin/python3, which every lab host sees.
HC_SPEC=$(/usr/bin/python3 -c 'import tomllib; print(*[r for r in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["lab"] if r.startswith("anycast-healthchecker")])')
if [ "$(cat .cache/healthchecker/.requirement 2>/dev/null)" != "$HC_SPEC" ] \
   || ! .cache/healthchecker/bin/anycast-healthchecker --version >/dev/null 2>&1; then
  /usr/bin/python3 -m venv .cache/healthchecker
  .cache/healthchecker/bin/python -m pip install -q "$HC_SPEC"
  echo "$HC_SPEC" > .cache/healthchecker/.requirement
fi
# The Debian 13 lab kind's images (nornir_anycast/lab/images.py), built once per machine outside
# the checkout (/var/cache/nornir-anycast/images, $NORNIR_ANYCAST_IMAGE_DIR): about two minutes
# the first time, nothing after. NORNIR_ANYCAST_NO_IMAGES=1 skips them (the namespace kind needs
# none).
if [ "${NORNIR_ANYCAST_NO_IMAGES:-0}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
  .venv/bin/python -m nornir_anycast.lab.images >/dev/null
fi
echo "install.sh: ready (.venv/bin/python)"
