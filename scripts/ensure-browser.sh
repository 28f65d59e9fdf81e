#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (a test tool's own browser download is not used).
set -euo pipefail

if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "browser tests need Debian's chromium and fonts-noto-cjk: apt-get install chromium fonts-noto-cjk" >&2
  exit 1
fi
echo "installing chromium and CJK fonts for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }
