#!/bin/bash
# xenstore-ls against a daemon that lies (tests/integration/
# xenstore_lying_daemon.py): a DIRECTORY reply with an empty child name,
# the same name at every level, a name listed twice, or an endless chain
# of new names must end with a clear error, not recurse until the stack
# overflows.
set -u
. "$(dirname "$0")/../compat/xenstore_daemon.inc"
X=$TANDEM_BIN
DIR=$(mktemp -d /tmp/tandem-xsls.XXXXXX)
LIAR_PID=
stop_liar() {
    if [ -n "$LIAR_PID" ]; then
        kill "$LIAR_PID" 2>/dev/null
        wait "$LIAR_PID" 2>/dev/null
    fi
    LIAR_PID=
}
XS_CLEANUP+=("stop_liar" "rm -rf $DIR")

# lying MODE EXPECTED-STDERR-PART
lying() {
    local mode=$1 want=$2 out rc
    rm -f "$DIR/sock"
    python3 "$(dirname "$0")/xenstore_lying_daemon.py" "$DIR/sock" "$mode" &
    LIAR_PID=$!
    if ! xs_wait_socket "$DIR/sock" 10; then
        fail "ls-$mode" "lying daemon did not start"
        stop_liar
        return
    fi
    out=$(XENSTORED_PATH=$DIR/sock timeout 60 "$X/xenstore-ls" /x 2>&1 >/dev/null); rc=$?
    stop_liar
    if [ "$rc" = 1 ] && [[ "$out" == *"$want"* ]]; then
        pass "ls-$mode"
    else
        fail "ls-$mode" "rc=$rc (want 1), stderr: $(echo "$out" | tail -n 2)"
    fi
}

lying empty 'invalid child name ""'
lying same 'deeper than any valid path'
lying dup 'child "a" twice'
lying deep 'deeper than any valid path'
