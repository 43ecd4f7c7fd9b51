#!/usr/bin/env bash
# Install the Debian packages the tests need, when missing: Chromium for the browser tests,
# PostgreSQL for the suite's second pass, redis-server for the production-layout and fault tests.
# As root it installs them; otherwise it names exactly what to install and fails.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# A CJK font so screenshots show Chinese text (optional for the tests themselves).
if ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1 \
   && ! ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1; then
  font=fonts-wqy-microhei
fi

if [ ${#need[@]} -eq 0 ] && [ -z "${font:-}" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages for the tests: ${need[*]} ${font:-}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" ${font:-} >/dev/null
  exit 0
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "The tests need these Debian packages, which are missing:" >&2
  echo "    sudo apt-get install ${need[*]} ${font:-}" >&2
  exit 1
fi
echo "note: no CJK font found; screenshots will show boxes for Chinese text (sudo apt-get install $font)" >&2
