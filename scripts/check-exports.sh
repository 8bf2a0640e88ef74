#!/usr/bin/env bash
# The exports check: every published package's package.json and built dist, as a consumer sees them. publint
# checks the manifest against the files; attw (are-the-types-wrong) packs the package (offline) and resolves
# its types under node16 ESM, node16 CJS and bundler resolution. Runs after the build.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for dir in packages/*/; do
  name=$(node -p "require('./${dir}package.json').name")
  if ! (cd "$dir" && pnpm exec publint --strict >/tmp/publint.$$ 2>&1); then
    echo "exports: publint failed for $name:"; cat /tmp/publint.$$; status=1
  fi
  # attw packs with npm pack: no network is used.
  if ! (cd "$dir" && pnpm exec attw --pack . --format ascii --no-emoji >/tmp/attw.$$ 2>&1); then
    echo "exports: attw failed for $name:"; cat /tmp/attw.$$; status=1
  fi
done
rm -f /tmp/publint.$$ /tmp/attw.$$
[ $status -eq 0 ] && echo "exports: publint and attw pass for every package"
exit $status
