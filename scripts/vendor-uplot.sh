#!/usr/bin/env bash
# Before `python -m build`: put uPlot (npm, the version package-lock.json pins) inside the
# package, so a wheel installed with pip draws previews without npm. The copy lives only
# in the build tree (perfdash/preview/vendor/ is git-ignored): never commit it.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
target=perfdash/preview/vendor/uplot
rm -rf "$target"
mkdir -p "$target/dist"
cp node_modules/uplot/package.json node_modules/uplot/LICENSE "$target/"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$target/dist/"
echo "uPlot $(node -p "require('./$target/package.json').version") copied into $target" >&2
