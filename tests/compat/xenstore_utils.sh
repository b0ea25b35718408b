#!/bin/bash
# Debian's xenstore-utils 4.17 (/usr/bin/xenstore-*, linked with Xen's own
# libxenstore.so.4) against our xenstored, compared side by side with:
#   ours    - our xenstore command (build/bin/xenstore-*), same daemon state
#   our-lib - Debian's binaries loading our libxenstore.so.4
# For each case stdout, stderr, exit status and (for changing commands) the
# resulting tree must be identical.  Plus a few absolute checks, so that a
# daemon that answers wrongly to both cannot pass.
set -u
. "$(dirname "$0")/xenstore_daemon.inc"
DEB=/usr/bin
if [ ! -x $DEB/xenstore-read ]; then
    echo "SKIP: xenstore-utils: Debian's xenstore-utils not installed"
    exit 0
fi
xsd_start
OURLIB=$TANDEM_ROOT/${BUILD:-build}/lib
W=$XSD_DIR/cmp
mkdir -p "$W"
ourlib_env=(env LD_LIBRARY_PATH="$OURLIB")
if [ "${SAN:-0}" = 1 ]; then
    ourlib_env+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
fi

# The fixture every case starts from (written with Debian's tools).
fixture() {
    $DEB/xenstore-rm /cmp 2>/dev/null
    $DEB/xenstore-write /cmp/a 1 /cmp/a/b two /cmp/c 'x\ty\001z\\\x7f' \
        /cmp/long "$(printf 'v%.0s' $(seq 100))" /cmp/d/e/f '' /cmp/w ''
    $DEB/xenstore-chmod /cmp/a n0 r5
}

# capture TAG PROGDIR MODE ARGS...: runs PROGDIR/xenstore-MODE (or the
# multi-call form for MODE "multi") and records output, status and tree.
capture() {
    local tag=$1 dir=$2 mode=$3; shift 3
    local prog=$dir/xenstore-$mode pre=(env)
    [ "$mode" = multi ] && prog=$dir/xenstore
    [ "$tag" = our-lib ] && pre=("${ourlib_env[@]}")
    # A hung daemon must not hang the test: 20 s is ample for any case.
    timeout 20 "${pre[@]}" "$prog" "$@" > "$W/$tag.out" 2> "$W/$tag.err" < /dev/null
    echo "rc=$?" >> "$W/$tag.out"
    sed -i "s|$dir/||g" "$W/$tag.out" "$W/$tag.err"
    $DEB/xenstore-ls -fp /cmp > "$W/$tag.tree" 2>&1
}

# same NAME MODE ARGS...: the case must behave identically in all three.
same() {
    local name=$1 t; shift
    fixture; capture xen $DEB "$@"
    fixture; capture ours "$TANDEM_BIN" "$@"
    fixture; capture our-lib $DEB "$@"
    for t in ours our-lib; do
        if cmp -s "$W/xen.out" "$W/$t.out" && cmp -s "$W/xen.err" "$W/$t.err" &&
           cmp -s "$W/xen.tree" "$W/$t.tree"; then
            pass "$t: $name"
        else
            fail "$t: $name" "differs from Debian's: $(diff <(cat "$W/xen".{out,err,tree}) \
                <(cat "$W/$t".{out,err,tree}) | head -n 8 | tr '\n' ' ')"
        fi
    done
}

# Absolute checks of Debian's tools against our daemon.
fixture
check "debian: read" "1" "$($DEB/xenstore-read /cmp/a)"
check "debian: read escaped" 'x\ty\001z\\\x7f' "$($DEB/xenstore-read /cmp/c)"
check "debian: list" "$(printf 'a\nc\nd\nlong\nw')" "$($DEB/xenstore-list /cmp | sort)"
check "debian: ls" "$(printf 'e = ""\n f = ""')" "$($DEB/xenstore-ls /cmp/d)"
check "debian: perms" 'a = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)' \
    "$($DEB/xenstore-ls -p /cmp | grep '^a ')"
$DEB/xenstore-exists /cmp/nope; check "debian: exists absent" 1 $?
$DEB/xenstore-rm /cmp/a; $DEB/xenstore-exists /cmp/a/b; check "debian: rm" 1 $?

# Side by side.
same "ls" ls /cmp
same "ls -p" ls -p /cmp
same "ls -f" ls -f /cmp
same "ls -fp" ls -fp /cmp
same "ls two paths" ls /cmp/a /cmp/d
same "ls missing" ls /cmp/nope
same "read" read /cmp/a
same "read -p two" read -p /cmp/a /cmp/c
same "read -R" read -R /cmp/c
same "read missing" read /cmp/nope
same "read partly missing" read /cmp/a /cmp/nope /cmp/c
same "list" list /cmp/a
same "list -p" list -p /cmp/d
same "list missing" list /cmp/nope
same "exists" exists /cmp/a /cmp/c
same "exists missing" exists /cmp/nope
same "write" write /cmp/n 1 /cmp/m/k 'a\x41\102\q'
same "write -R" write -R /cmp/n 'a\tb'
same "write one" write /cmp/a/b three
same "rm" rm /cmp/a
same "rm -t" rm -t /cmp/d/e/f
same "rm missing parent" rm /cmp/nope/x
same "chmod" chmod /cmp/a b3
same "chmod two" chmod /cmp/c n1 r2 w3
same "chmod -r" chmod -r /cmp n0 r1
same "chmod -u" chmod -u /cmp/d/e w2
same "chmod bad letter" chmod /cmp/a x1
same "chmod missing" chmod /cmp/nope r1
same "watch -n 1" watch -n 1 /cmp/w
same "multi-call read" multi read /cmp/a
same "multi-call ls" multi ls -p /cmp/d
same "usage read" read
same "usage write odd" write /cmp/x
same "usage ls -t" ls -t
same "usage chmod" chmod
same "usage watch" watch
same "usage multi" multi
same "help" read -h
same "unknown mode" multi frob
same "bad option" ls -x /cmp/d
same "long options" read --prefix --raw /cmp/a
same "-s ignored" read -s /cmp/a
same "ls -s" ls -s /cmp/d

# ls fits a terminal: run both in a 50-column pty.
if command -v script > /dev/null; then
    fixture
    a=$(script -qec "stty cols 50; $DEB/xenstore-ls -p /cmp" /dev/null)
    b=$(script -qec "stty cols 50; $TANDEM_BIN/xenstore-ls -p /cmp" /dev/null)
    check "ours: ls -p on a 50-column terminal" "$a" "$b"
fi

# xs_open failure.
a=$(XENSTORED_PATH=$XSD_DIR/none $DEB/xenstore-read /cmp/a 2>&1; echo "rc=$?")
b=$(XENSTORED_PATH=$XSD_DIR/none "$TANDEM_BIN/xenstore-read" /cmp/a 2>&1; echo "rc=$?")
check "ours: no daemon" "$a" "$b"
