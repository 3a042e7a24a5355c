#!/bin/sh
# The browser tests drive Debian's Chromium (/usr/bin/chromium) and need its driver; nothing
# is downloaded from elsewhere. Installs both when one is missing and we are root (apt-get
# update once, then install); otherwise says in one line what to install and fails, so
# `make test` stops before the suite instead of failing in it.
# CHROMIUM and CHROMEDRIVER name the files to look for (the tests point them elsewhere).
set -eu
chromium="${CHROMIUM:-/usr/bin/chromium}"
driver="${CHROMEDRIVER:-/usr/bin/chromedriver}"
missing=""
[ -x "$chromium" ] || missing="chromium"
[ -x "$driver" ] || missing="${missing:+$missing }chromium-driver"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "The browser tests need Debian's $missing: run \`sudo apt-get install -y $missing\` (as root), then \`make test\` again." >&2
    exit 1
fi
echo "Installing Debian's $missing for the browser tests..." >&2
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
