# Debian's chromium, for the test that renders the server's /docs page (driven by playwright through
# executable_path; never `playwright install`). Sourced by .ci/run; it must not fail the run: without
# chromium that one test skips with its reason.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "chromium could not be installed; the /docs browser test will be skipped"
  fi
fi
