#!/usr/bin/env bash
# Screenshot the workflow's HTML report in headless Chromium: proof that it opens and shows
# its figures (a broken report is a blank page or empty image frames).
#
# Usage: scripts/report_screenshot.sh [REPORT] [OUTDIR] [SNAKEMAKE ARGS...]
#   REPORT   default results/report.html; built first with `snakemake --report REPORT` when missing
#            (after a finished run, with the same --config/--configfile as the run: the extra args)
#   OUTDIR   default results/screenshots
# Writes OUTDIR/report_home.png (landing page), report_objects.png (the first object's
# figure, opened from the menu as a user would) and report_summary.png, and prints what each
# shows; exits 1 if any opened figure is not a loaded image.
#
# Needs chromium (Debian/Ubuntu: apt-get install -y chromium). The bare check, without clicking:
#   chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
#     --disable-background-networking --disable-component-update --disable-sync \
#     --user-data-dir="$(mktemp -d)" --window-size=1600,1000 --screenshot=home.png "file://$PWD/results/report.html"
# (--no-sandbox because it runs as root in containers; the rest keeps it off the network.)
set -euo pipefail
cd "$(dirname "$0")/.."
REPORT=${1:-results/report.html}
OUTDIR=${2:-results/screenshots}
shift $(( $# < 2 ? $# : 2 ))

if [ -x .venv/bin/python ]; then BIN=.venv/bin/; else BIN=""; fi
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  echo "report_screenshot: chromium not found (Debian/Ubuntu: apt-get install -y chromium)" >&2
  exit 1
fi
if [ ! -f "$REPORT" ]; then
  echo "report_screenshot: building $REPORT"
  "${BIN}snakemake" --report "$REPORT" "$@"
fi
# Clicks through the report over the DevTools protocol (Python standard library only).
"${BIN}python3" scripts/report_screenshot.py "$REPORT" -o "$OUTDIR"
