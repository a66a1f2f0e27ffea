#!/usr/bin/env bash
# Data archival (runbook: Data Management). Moves closed orders, fills and feed-built bars older
# than the date into the archive tables, one transaction per batch (a crash loses and doubles
# nothing; running it again finishes), and the journal before a snapshot into checksummed
# segment files under <data dir>/archive. Imported history stays unless named.
# Usage: archive_old_data.sh [DATE (YYYY-MM-DD; default one year ago)] [mcp-trading archive options...]
#        e.g. archive_old_data.sh 2025-01-01 --dry-run
set -uo pipefail
. "$(dirname "$0")/_common.sh"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  ARCHIVE_DATE=$1; shift
else
  ARCHIVE_DATE=$("$PY" -c 'import datetime as d; t=d.date.today(); print(t.replace(year=t.year-1) if not (t.month==2 and t.day==29) else t.replace(year=t.year-1, day=28))')
fi
echo "Archiving data older than $ARCHIVE_DATE..."
if ! "$CLI" archive --before "$ARCHIVE_DATE" "$@"; then
  echo "❌ Data archival failed (nothing half-moved; run it again to finish)"
  exit 1
fi
echo "✅ Data archival completed"
