#!/usr/bin/env bash
# Builds clearsight.vsix: the Clearsight package and its pure-Python dependencies are
# installed into bundled/libs, the extension is bundled with esbuild and packaged with vsce.
# vsce needs Node >= 22: set NODE_BIN to a folder holding one (scripts/install-test-editors.sh
# does), else the node on PATH is used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"
if [[ -n "${NODE_BIN:-}" ]]; then
    export PATH="$NODE_BIN:$PATH"
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 22 )); then
    echo "build-vsix.sh: vsce needs Node >= 22, found $(node --version); set NODE_BIN" >&2
    exit 1
fi
python="${PYTHON:-python3}"
rm -rf bundled/libs
# The server runs from here with the user's Python: keep only what pip installed for import.
"$python" -m pip install --quiet --no-compile --disable-pip-version-check \
    --target bundled/libs "$root"
rm -rf bundled/libs/bin
[[ -f node_modules/plotly.js-dist-min/plotly.min.js ]] || npm ci --no-audit --no-fund
npm run --silent build
# The risk report's webview loads plotly.js from the extension (the server sends the page
# without it): the one file of plotly.js-dist-min the page needs.
mkdir -p media
cp node_modules/plotly.js-dist-min/plotly.min.js media/plotly.min.js
# bundled/libs is ~2,000 files of PyPI packages (6,900 while it held jedi, when vsce's
# secret scan of them alone took over ten minutes); the extension's own code is
# dist/extension.js.
npx --no-install vsce package --no-dependencies --allow-package-all-secrets -o clearsight.vsix
