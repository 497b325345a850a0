#!/bin/sh
# Install espeak-ng, the text-to-speech voice benchmarks/bench_speech.py reads Dickens with.
# Tests never need it (they synthesise their own speech: a2a_cli.examples.synth_speech).
# Usage: sh scripts/install_speech_tools.sh   (as root, or with sudo at hand)
set -eu

if command -v espeak-ng >/dev/null 2>&1; then
    echo "espeak-ng is already installed: $(command -v espeak-ng)"
    exit 0
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        echo "install_speech_tools: need root (or sudo) to run: $*" >&2; exit 1; fi
}

if command -v apt-get >/dev/null 2>&1; then
    as_root apt-get install -y --no-install-recommends espeak-ng || { as_root apt-get update && as_root apt-get install -y --no-install-recommends espeak-ng; }
elif command -v dnf >/dev/null 2>&1; then
    as_root dnf install -y espeak-ng
elif command -v brew >/dev/null 2>&1; then
    brew install espeak-ng
else
    echo "install_speech_tools: no apt-get, dnf or brew here; install espeak-ng by hand" >&2
    exit 1
fi
espeak-ng --version
