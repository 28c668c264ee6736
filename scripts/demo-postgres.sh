# Sourced by the demos: a throw-away PostgreSQL server on loopback with
# password authentication, in a fresh directory $WORK.
#   demo_postgres_start   sets WORK, PORT, PASSWORD and URL (a libpq URL with
#                         the password); the first free port from 35432 up
#   demo_postgres_stop    stops exactly that server and removes $WORK
WORK=$(mktemp -d /tmp/sg-demo.XXXXXX)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
PG_AS=()
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$WORK"; PG_AS=(runuser -u postgres --); fi

demo_postgres_start() {
  PORT=35432
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
  PASSWORD="demo-$RANDOM$RANDOM-secret"
  echo "$PASSWORD" >"$WORK/pw"
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --pwfile="$WORK/pw" \
    --auth-host=scram-sha-256 --auth-local=trust >"$WORK/initdb.log"
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
    -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
  URL="postgresql://postgres:$PASSWORD@127.0.0.1:$PORT/postgres?sslmode=disable"
}

demo_postgres_stop() {
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
