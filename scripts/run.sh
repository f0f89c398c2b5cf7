#!/usr/bin/env bash
# `make run`: migrate, load the demo county, start a Celery worker and beat and the web server.
# Runs inside scripts/devservices.py, which provides DATABASE_URL/REDIS_URL/SECRET_KEY when unset.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export DEBUG=${DEBUG:-1}
export DEMO_PERSONS=${DEMO_PERSONS:-20000}
PORT=${PORT:-8000}
case "$PORT" in
  '' | *[!0-9]*) echo "PORT must be a port number, not '$PORT'" >&2; exit 2 ;;
esac

$PY manage.py migrate --no-input
$PY manage.py load_areas fixtures/areas_demo.csv
if $PY manage.py help seed_demo >/dev/null 2>&1; then
  $PY manage.py seed_demo --persons "$DEMO_PERSONS" --seed 1 --if-empty
fi
if $PY manage.py help compute_indicators >/dev/null 2>&1; then
  # The dashboard's reports: the last finished quarter's year-to-date report, the same period a year earlier
  # (the cards' change from last year) and eight quarters of trend.
  for period in $($PY -c 'from datetime import date; from apps.indicators.periods import finished_quarter_ytd as f, quarters_up_to as q; p = f(date.today()); print(p.code, str(p.year - 1) + p.code[4:], *[x.code for x in q(p, 8)])'); do
    $PY manage.py compute_indicators --period "$period" >/dev/null || echo "compute_indicators $period failed"
  done
fi
# Target scoring: the shared township scheme (outside the repository) and a contract per demo township,
# scored from the snapshots above.
SCHEME_FILE=../shared/reference/scheme_township_1000.yaml
if [ -f "$SCHEME_FILE" ]; then
  $PY manage.py load_scheme "$SCHEME_FILE"
  $PY manage.py scoring_demo --leave-open 2
else
  echo "Scoring scheme $SCHEME_FILE not found: skipping the scoring demo data."
fi
echo "Demo logins:"
$PY manage.py seed_demo_users
# The county's work part-way through, by the demo users: 奖扶 rosters under review and a reconciled batch, old
# fee cases with one to review (both do nothing when their data exist).
$PY manage.py subsidies_demo
$PY manage.py fees_demo

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap cleanup INT TERM EXIT

.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=.data/celerybeat-schedule &
pids+=($!)
echo "Web server: http://127.0.0.1:$PORT  (Ctrl-C stops everything)"
$PY manage.py runserver "127.0.0.1:$PORT" &
pids+=($!)
wait -n "${pids[@]}" || true
