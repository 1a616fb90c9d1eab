#!/bin/bash
# ipcbroker metrics [--http] (issue 11, part 1), with the real components:
# the daemon sampling every 100 ms, channels filled, fully filled and
# refused to nobody; promtool's lint on the output; HTTP requests piped
# into --http; and a real Prometheus scraping `ipcbroker metrics --http`
# behind systemd-socket-activate, whose query API must then return the
# depth of the queue the test filled.
. "$top_srcdir/tests/lib.sh"
test_init

echo "sample_interval = 100ms" >>"$CONF"
add_channel jobs type=mqueue max_messages=8 message_size=64 mode=0600 on_stop=remove
add_channel full type=mqueue max_messages=2 message_size=64 mode=0600 on_stop=remove
add_channel events type=fifo mode=0600 capacity=65536 on_stop=remove
ok "the daemon starts with sample_interval = 100ms" daemon_start

OUT="$T/metrics.txt"

# Scrape into $OUT (or FILE): the exit status of `ipcbroker metrics`.
scrape() { # [FILE]
        "$IPCBROKER" metrics >"${1:-$OUT}"
}

# The value of the series SERIES (its exact name{labels}) in $OUT (or FILE).
value() { # SERIES [FILE]
        awk -v s="$1" '$1 == s { print $2 }' "${2:-$OUT}"
}

# A fresh scrape shows SERIES at VALUE.
metric_is() { # SERIES VALUE
        scrape && [ "$(value "$1")" = "$2" ]
}

# A fresh scrape shows SERIES above VALUE (a decimal).
metric_above() { # SERIES VALUE
        scrape && awk -v v="$(value "$1")" -v min="$2" 'BEGIN { exit !(v != "" && v + 0 > min + 0) }'
}

# ---- the text format ---------------------------------------------------------
ok "ipcbroker metrics exits 0" scrape
is "$(tail -n1 "$OUT")" "# EOF" "the output ends in # EOF"
is "$(grep -c '^# TYPE' "$OUT")" "$(grep '^# TYPE' "$OUT" | awk '{ print $3 }' | sort -u | wc -l)" \
        "each family has one TYPE line"
is "$(grep '^# TYPE .* counter$' "$OUT" | grep -vc '_total counter$')" 0 \
        "counter families are named after their samples (x_total), as promtool 2.42 wants"
is "$(grep -v '^#' "$OUT" | awk '{ print $1 }' | sort | uniq -d)" "" "no series twice"
# every sample follows the HELP and TYPE of its own family, and each family is one block
is "$(awk '/^# TYPE/ { fam = $3; if (seen[fam]++) print "again: " fam; next }
           /^#/ { next }
           { name = $1; sub(/\{.*/, "", name); if (name != fam) print "outside its family: " $0 }' "$OUT")" "" \
        "each family's samples stand together under its header"

like "$(grep '^ipcbroker_build_info' "$OUT")" \
        "^ipcbroker_build_info\\{version=\"$("$IPCBROKER" status --json | "$PYTHON3" -c 'import json, sys; print(json.load(sys.stdin)["version"])')\"\\} 1$" \
        "ipcbroker_build_info carries the daemon's version"
is "$(value ipcbroker_sample_interval_seconds)" 0.1 "ipcbroker_sample_interval_seconds is the configured 100 ms"
start=$(value ipcbroker_start_time_seconds)
ok "ipcbroker_start_time_seconds is the daemon's start ($start)" \
        test "${start:-0}" -le "$(date +%s)" -a "${start:-0}" -gt $(($(date +%s) - 600))
like "$(value ipcbroker_clients)" '^[0-9]+$' "ipcbroker_clients is a count"
req1=$(value ipcbroker_requests_total)
scrape
ok "ipcbroker_requests_total counts the scrapes ($req1, then $(value ipcbroker_requests_total))" \
        test "$(value ipcbroker_requests_total)" -gt "${req1:-0}"
like "$(value ipcbroker_connections_total)" '^[1-9][0-9]*$' "ipcbroker_connections_total counts the connections"
for c in jobs full events; do
        is "$(value "ipcbroker_channel_ready{channel=\"$c\"}")" 1 "ipcbroker_channel_ready of $c"
done
is "$(value 'ipcbroker_channel_max_messages{channel="jobs",type="mqueue"}')" 8 "ipcbroker_channel_max_messages of a queue"
is "$(value 'ipcbroker_channel_capacity_bytes{channel="events"}')" 65536 "ipcbroker_channel_capacity_bytes of a FIFO"
is "$(value 'ipcbroker_channel_capacity_bytes{channel="jobs"}')" "" "no capacity for a queue"
is "$(value 'ipcbroker_channel_high_water_bytes{channel="jobs"}')" "" "a queue's high-water mark is not in bytes"
is "$(value 'ipcbroker_channel_high_water_messages{channel="events"}')" "" "a FIFO's high-water mark is not in messages"
ok "an empty FIFO's ipcbroker_channel_messages is 0: known, it holds nothing (bounded wait for a sample)" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_messages{channel="events",type="fifo"}' 0

# ---- depth, high water, opens ---------------------------------------------------
for i in 1 2 3; do "$IPCBROKER" send jobs "message $i"; done
ok "ipcbroker_channel_messages{channel=\"jobs\",type=\"mqueue\"} 3 after 3 sends" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_messages{channel="jobs",type="mqueue"}' 3
# the depth may be read when asked, the high-water mark is the samples' (every 100 ms)
ok "the high-water mark is 3" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_high_water_messages{channel="jobs"}' 3
is "$(value 'ipcbroker_channel_opens_total{channel="jobs",access="send",result="granted"}')" 3 \
        "3 send opens granted"
is "$(value 'ipcbroker_channel_full{channel="jobs"}')" 0 "a queue with room is not full"
"$IPCBROKER" recv jobs -n 2 >/dev/null
ok "the depth follows the receives (1)" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_messages{channel="jobs",type="mqueue"}' 1
is "$(value 'ipcbroker_channel_high_water_messages{channel="jobs"}')" 3 "the high-water mark stays 3"
is "$(value 'ipcbroker_channel_opens_total{channel="jobs",access="recv",result="granted"}')" 1 "1 receive open granted"

# nobody may not open a 0600 channel of root's
not_ok "nobody's send on a 0600 channel is refused" $AS_NOBODY "$IPCBROKER" send jobs intruder
not_ok "nobody's receive too" $AS_NOBODY "$IPCBROKER" recv jobs --nonblock
scrape
is "$(value 'ipcbroker_channel_opens_total{channel="jobs",access="send",result="denied"}')" 1 \
        "the denied send is counted in opens_total result=\"denied\""
is "$(value 'ipcbroker_channel_opens_total{channel="jobs",access="recv",result="denied"}')" 1 \
        "the denied receive too"
is "$(value 'ipcbroker_channel_opens_total{channel="jobs",access="send",result="granted"}')" 3 \
        "the granted count is unchanged"

# ---- a full queue ----------------------------------------------------------------
"$IPCBROKER" send full one
"$IPCBROKER" send full two
ok "a queue filled to max_messages shows ipcbroker_channel_full 1" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_full{channel="full"}' 1
ok "its full_seconds_total grows above 0" \
        wait_until "$DAEMON_WAIT" metric_above 'ipcbroker_channel_full_seconds_total{channel="full"}' 0
is "$(value 'ipcbroker_channel_full_events_total{channel="full"}')" 1 "ipcbroker_channel_full_events_total is 1"
is "$(value 'ipcbroker_channel_full_alerts_total{channel="full"}')" 0 "no alert without alert_full_after"
"$IPCBROKER" recv full -n 2 >/dev/null
ok "drained, it is no longer full" wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_full{channel="full"}' 0
is "$(value 'ipcbroker_channel_full_events_total{channel="full"}')" 1 "and it became full once"
full_s=$(value 'ipcbroker_channel_full_seconds_total{channel="full"}')
sleep 0.3
scrape
is "$(value 'ipcbroker_channel_full_seconds_total{channel="full"}')" "$full_s" "full_seconds_total stops growing"

# ---- a FIFO ----------------------------------------------------------------------
"$IPCBROKER" send events hello
ok "a FIFO's ipcbroker_channel_bytes is what it holds (5)" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_bytes{channel="events",type="fifo"}' 5
ok "and its high-water mark in bytes" \
        wait_until "$DAEMON_WAIT" metric_is 'ipcbroker_channel_high_water_bytes{channel="events"}' 5
is "$(value 'ipcbroker_channel_messages{channel="events",type="fifo"}')" "" \
        "a FIFO that holds something: no ipcbroker_channel_messages (the kernel does not count packets)"
"$IPCBROKER" recv events >/dev/null

# ---- reloads ---------------------------------------------------------------------
"$IPCBROKER" reload >/dev/null
cp "$CONF" "$T/good.conf"
echo "no_such_key = 1" >>"$CONF"
not_ok "a reload of an invalid configuration fails" "$IPCBROKER" reload
cp "$T/good.conf" "$CONF"
scrape
is "$(value 'ipcbroker_reloads_total{result="ok"}')" 1 "ipcbroker_reloads_total{result=\"ok\"} counts the reload"
is "$(value 'ipcbroker_reloads_total{result="failed"}')" 1 "and {result=\"failed\"} the refused one"

# ---- promtool ----------------------------------------------------------------------
if command -v promtool >/dev/null; then
        scrape
        lint=$(promtool check metrics <"$OUT" 2>&1)
        rc=$?
        is "$rc:$lint" "0:" "promtool check metrics passes on the output, every family present"
else
        skip "promtool check metrics passes on the output" "promtool is not installed (Debian package prometheus)"
fi

# ---- errors -------------------------------------------------------------------------
IPCBROKER_SOCKET="$T/none.sock" "$IPCBROKER" metrics >/dev/null 2>"$T/err"
is "$?" 69 "no daemon: exit 69"
like "$(cat "$T/err")" "$T/none.sock" "naming the socket"
"$IPCBROKER" metrics extra >/dev/null 2>&1
is "$?" 2 "an operand is a usage error"
"$IPCBROKER" metrics --json >/dev/null 2>&1
is "$?" 2 "so is an unknown option"

# ---- --http, requests piped in --------------------------------------------------------
RESP="$T/response"

# Pipe the request (printf format) into `metrics --http`; the response goes to $RESP.
http() { # REQUEST-FORMAT
        printf "$1" | "$IPCBROKER" metrics --http >"$RESP" 2>"$T/http.err"
}
status_line() { head -n1 "$RESP" | tr -d '\r'; }
header() { # NAME : its value in $RESP
        sed -n '1,/^\r$/p' "$RESP" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -n1
}
body() { sed '1,/^\r$/d' "$RESP"; }

ok "GET /metrics: exit 0" http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n'
is "$(status_line)" "HTTP/1.1 200 OK" "GET /metrics: 200"
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "the Prometheus text format's content type"
is "$(header Connection)" close "Connection: close"
is "$(header Content-Length)" "$(body | wc -c)" "Content-Length is the body's length"
is "$(body | tail -n1)" "# EOF" "the body is the metrics, ending in # EOF"
like "$(body)" 'ipcbroker_channel_messages\{channel="jobs",type="mqueue"\} 1' "with the queue's depth"
if command -v promtool >/dev/null; then
        ok "promtool check metrics passes on the body" sh -c "sed '1,/^\r\$/d' '$RESP' | promtool check metrics"
else
        skip "promtool check metrics passes on the body" "promtool is not installed"
fi

http 'GET / HTTP/1.0\r\n\r\n'
is "$(status_line)" "HTTP/1.0 200 OK" "GET / over HTTP/1.0: 200, answered in 1.0"
http 'GET /metrics?x=1 HTTP/1.1\nHost: localhost\n\n'
is "$(status_line)" "HTTP/1.1 200 OK" "bare LF line ends and a query string are fine"
http 'GET http://localhost:9469/metrics HTTP/1.1\r\nHost: localhost:9469\r\n\r\n'
is "$(status_line)" "HTTP/1.1 200 OK" "an absolute-form target too"

http 'HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n'
is "$(status_line)" "HTTP/1.1 200 OK" "HEAD /metrics: 200"
like "$(header Content-Length)" '^[1-9][0-9]*$' "HEAD has the Content-Length of the body"
is "$(body | wc -c)" 0 "and no body"

http 'GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n'
is "$(status_line)" "HTTP/1.1 404 Not Found" "another path: 404"
like "$(body)" '/metrics' "the 404 names /metrics"
http 'POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello'
is "$(status_line)" "HTTP/1.1 405 Method Not Allowed" "POST: 405"
is "$(header Allow)" "GET, HEAD" "with Allow: GET, HEAD"
http 'DELETE / HTTP/1.1\r\nHost: localhost\r\n\r\n'
is "$(status_line)" "HTTP/1.1 405 Method Not Allowed" "DELETE: 405"

for bad in 'hello\r\n\r\n' 'GET /metrics\r\n\r\n' 'GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n' \
        'GET /metrics HTTP/1.1\r\n\r\n' 'GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n' \
        'GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n' 'GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n' \
        'GET /metrics HTTP/1.1\r\nHost: x\r\n' 'GET metrics HTTP/1.1\r\nHost: x\r\n\r\n'; do
        http "$bad"
        is "$(status_line)" "HTTP/1.1 400 Bad Request" "malformed: 400 for '$bad'"
done
http 'GET /metrics HTTP/2.0\r\n\r\n'
is "$(status_line)" "HTTP/1.1 505 HTTP Version Not Supported" "HTTP/2.0: 505"
head -c 9000 /dev/zero | tr '\0' x | "$IPCBROKER" metrics --http >"$RESP" 2>/dev/null
is "$(status_line)" "HTTP/1.1 431 Request Header Fields Too Large" "a header beyond 8 KiB: 431"
http ''
is "$(wc -c <"$RESP")" 0 "a connection closed without a request gets no answer"

# a client that never finishes its request is answered 408 after 5 s, not waited for
t0=$(date +%s)
"$IPCBROKER" metrics --http < <(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n'; exec sleep 8 2>/dev/null) >"$RESP"
t1=$(date +%s)
is "$(status_line)" "HTTP/1.1 408 Request Timeout" "an unfinished request: 408"
ok "after about 5 s ($((t1 - t0)) s)" test $((t1 - t0)) -ge 4 -a $((t1 - t0)) -le 7

# content negotiation
PROM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
http "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: $PROM_ACCEPT\r\n\r\n"
is "$(status_line)" "HTTP/1.1 200 OK" "Prometheus's Accept header: 200"
is "$(header Content-Type)" "application/openmetrics-text; version=1.0.0; charset=utf-8" \
        "answered in OpenMetrics 1.0.0"
is "$(header Content-Length)" "$(body | wc -c)" "Content-Length is the body's length"
is "$(body | tail -n1)" "# EOF" "ending in # EOF"
like "$(body)" '# TYPE ipcbroker_channel_full_events counter' "OpenMetrics counter families are named without _total"
like "$(body)" 'ipcbroker_channel_full_events_total\{channel="full"\} 1' "and their samples with it"
is "$(body | grep -c '^# TYPE [a-z_]*_total ')" 0 "no family named x_total"
like "$(body)" '# TYPE ipcbroker_build info' "the build information is an info family"
like "$(body)" 'ipcbroker_build_info\{version="[^"]+"\} 1' "its sample is ipcbroker_build_info"
http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain;q=0.9\r\nAccept: application/openmetrics-text\r\n\r\n'
is "$(header Content-Type)" "application/openmetrics-text; version=1.0.0; charset=utf-8" \
        "two Accept headers are one list: OpenMetrics preferred"
http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: application/openmetrics-text;q=0.5, text/plain\r\n\r\n'
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "text preferred: text"
http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: application/openmetrics-text;version=0.0.1\r\n\r\n'
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "another OpenMetrics version only: text"
http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n'
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "*/*: text"
http 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: application/openmetrics-text;q=0\r\n\r\n'
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "OpenMetrics refused (q=0): text"

# the daemon unreachable: 503 naming the reason
printf 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n' |
        IPCBROKER_SOCKET="$T/none.sock" "$IPCBROKER" metrics --http >"$RESP" 2>/dev/null
is "$(status_line)" "HTTP/1.1 503 Service Unavailable" "no daemon: 503"
like "$(body)" "$T/none.sock" "the body names the socket it could not reach"
is "$(header Content-Length)" "$(body | wc -c)" "with its Content-Length"

# ---- a real Prometheus ----------------------------------------------------------------
free_port() {
        "$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The value of the first series QUERY returns from Prometheus's API (nothing when none).
prom_query() { # QUERY
        "$PYTHON3" - "$PROM_PORT" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(url, timeout=5) as r:
        result = json.load(r)["data"]["result"]
except Exception as e:
    print("query %s: %s" % (sys.argv[2], e), file=sys.stderr)
    sys.exit(1)
if result:
    print(result[0]["value"][1])
EOF
}
prom_is() { [ "$(prom_query "$1")" = "$2" ]; }

if ! command -v prometheus >/dev/null || ! command -v systemd-socket-activate >/dev/null; then
        skip "a real Prometheus scrapes ipcbroker metrics --http" \
                "prometheus (Debian package prometheus) or systemd-socket-activate is not installed"
else
        METRICS_PORT=$(free_port)
        LOGGED_PORT=$(free_port)
        PROM_PORT=$(free_port)
        # the endpoint as the socket unit runs it: one `metrics --http` per connection
        # (it passes on only the environment named with -E)
        systemd-socket-activate --inetd -a -l "127.0.0.1:$METRICS_PORT" -E IPCBROKER_SOCKET \
                "$IPCBROKER" metrics --http >"$T/activate.log" 2>&1 &
        EXTRA_PIDS="$EXTRA_PIDS $!"
        # the same, with every response kept, to see which format Prometheus got
        cat >"$T/logged.sh" <<EOF
#!/bin/sh
"$IPCBROKER" metrics --http | tee -a "$T/responses.log"
EOF
        chmod +x "$T/logged.sh"
        systemd-socket-activate --inetd -a -l "127.0.0.1:$LOGGED_PORT" -E IPCBROKER_SOCKET "$T/logged.sh" >>"$T/activate.log" 2>&1 &
        EXTRA_PIDS="$EXTRA_PIDS $!"
        cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ipcbroker
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
  - job_name: logged
    static_configs:
      - targets: ['127.0.0.1:$LOGGED_PORT']
EOF
        prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prometheus-data" \
                --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prometheus.log" 2>&1 &
        EXTRA_PIDS="$EXTRA_PIDS $!"

        "$IPCBROKER" send jobs two
        "$IPCBROKER" send jobs three
        # (the other job scrapes the same daemon: every query names this one)
        ok "Prometheus's query API returns the depth 3 of the queue the test filled" \
                wait_until 60 prom_is 'ipcbroker_channel_messages{job="ipcbroker",channel="jobs"}' 3
        is "$(prom_query 'up{job="ipcbroker"}')" 1 "the target is up"
        is "$(prom_query 'ipcbroker_channel_full_events_total{job="ipcbroker",channel="full"}')" 1 \
                "counters arrive under their _total names"
        is "$(prom_query 'ipcbroker_channel_opens_total{job="ipcbroker",channel="jobs",access="send",result="denied"}')" 1 \
                "labels arrive as sent"
        is "$(prom_query 'ipcbroker_build_info{job="ipcbroker"}')" 1 "the info family arrives as ipcbroker_build_info"
        is "$(prom_query 'ipcbroker_sample_interval_seconds{job="ipcbroker"}')" 0.1 "and the gauges with their values"
        is "$(prom_query 'max_over_time(ipcbroker_channel_messages{job="ipcbroker",channel="jobs"}[5m])
                / ipcbroker_channel_max_messages')" 0.375 "the README's fill query: 3 of 8"
        ok "the logged target is up too" wait_until 30 prom_is 'up{job="logged"}' 1
        like "$(grep -m1 -i '^Content-Type:' "$T/responses.log" | tr -d '\r')" \
                'application/openmetrics-text; version=1.0.0' "Prometheus asked for and got OpenMetrics"
        if [ "$TAP_FAILED" != 0 ]; then
                diag "---- prometheus log ----"
                tail -n 20 "$T/prometheus.log" | sed 's/^/# /'
                diag "---- systemd-socket-activate log ----"
                tail -n 20 "$T/activate.log" | sed 's/^/# /'
        fi
fi

done_testing
