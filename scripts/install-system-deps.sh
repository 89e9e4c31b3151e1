#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the project and its tests need, when we can.
# Usage: scripts/install-system-deps.sh [package ...]   (default: what `make test` needs)
set -euo pipefail
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(espeak-ng obs-studio xvfb ffmpeg sox xdotool curl dbus at-spi2-core gdb chromium openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages: ${missing[*]} (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: missing system packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
