#!/usr/bin/env bash
# How src/xxgk/serve/static/vendor/ was filled: the npm packages' own builds, never a CDN.
set -euo pipefail
cd "$(mktemp -d)"
npm pack echarts@6.1.0 htmx.org@4.0.1 >/dev/null
tar xzf echarts-6.1.0.tgz && cp package/dist/echarts.min.js "$OLDPWD/src/xxgk/serve/static/vendor/" && rm -rf package
tar xzf htmx.org-4.0.1.tgz && cp package/dist/htmx.min.js "$OLDPWD/src/xxgk/serve/static/vendor/"
