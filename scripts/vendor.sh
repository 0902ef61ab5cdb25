#!/usr/bin/env bash
# How src/xxgk/serve/static/vendor/ was filled: the npm packages' own builds, never a CDN.
set -euo pipefail
cd "$(mktemp -d)"
npm pack echarts@6.1.0 htmx.org@4.0.1 swagger-ui-dist@5.35.0 >/dev/null
vendor="$OLDPWD/src/xxgk/serve/static/vendor"
tar xzf echarts-6.1.0.tgz && cp package/dist/echarts.min.js "$vendor/" && rm -rf package
tar xzf htmx.org-4.0.1.tgz && cp package/dist/htmx.min.js "$vendor/" && rm -rf package
tar xzf swagger-ui-dist-5.35.0.tgz && cp package/swagger-ui-bundle.js package/swagger-ui.css "$vendor/"
