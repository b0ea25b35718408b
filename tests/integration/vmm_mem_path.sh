#!/bin/bash
# tandem-test: guest (boots guests under /dev/kvm; in the test machine where the host has none)
# Guest memory on a tmpfs (tandem-vmm --mem-path, config key mem_path): on
# a tmpfs mounted huge=within_size in this test's work dir, app=blkverify
# passes (xenstore ring, event channels, grants and blkback all work on
# guest memory in that file); while app=blkbench runs, the mount's used
# space grows, the file is unlinked (the mount lists nothing), and the
# VMM maps it with 2 MiB pages (ShmemPmdMapped in /proc/PID/smaps, which
# unlike /proc/meminfo's ShmemHugePages no other process on the host can
# change); once the guest is gone the mount is empty again. Refusals: a
# mem_path that is not a tmpfs stops `tandem run` before anything starts;
# tandem-vmm refuses a missing directory and one not on a tmpfs.
. "$(dirname "$0")/blk_lib.bash"
need_blk

MNT=$WORK/guestmem       # the huge tmpfs
HUGETLB=$WORK/hugetlb    # a hugetlbfs, when one can be mounted
MOUNTED=()

# Guests and daemons first (they hold the file open or mapped), then the
# mounts, then blk_lib's cleanup (the rest, and $WORK). A second signal
# (a timeout's TERM, say) must not cut it short and leave a mount behind.
memtest_cleanup() {
    local rc=$? p m
    trap '' INT TERM HUP
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}"; do wait_gone "$p" 50 || kill -KILL "$p" 2>/dev/null; done
    BG_PIDS=()
    for p in $(pgrep -f -- "--run-dir $TANDEM_RUNDIR( |\$)"); do
        kill -TERM "$p" 2>/dev/null
        wait_gone "$p" 30 || kill -KILL "$p" 2>/dev/null
    done
    stop_blkback
    for m in "${MOUNTED[@]}"; do
        umount "$m" 2>/dev/null || { sleep 0.5; umount "$m" 2>/dev/null; } || umount -l "$m"
    done
    MOUNTED=()
    (exit $rc)
    blk_cleanup
}
trap memtest_cleanup EXIT

fstype() { stat -f -c %T "$1" 2>/dev/null; }
# used_kib DIR: space in use on the file system of DIR.
used_kib() { stat -f -c '%S %b %f' "$1" | awk '{ print int($1 * ($2 - $3) / 1024) }'; }
mount_empty() { [ "$(used_kib "$MNT")" = 0 ] && [ -z "$(ls -A "$MNT")" ]; }
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

mkdir -p "$MNT"
mount -t tmpfs -o huge=within_size,size=512M,mode=0700 tandem-memtest "$MNT" 2>"$WORK/mount.err" ||
    skip_all "SKIP: vmm_mem_path: cannot mount a tmpfs with huge=within_size on $MNT ($(id -un)): $(head -n 1 "$WORK/mount.err" | cut -c 1-200)"
MOUNTED+=("$MNT")
[ "$(fstype "$MNT")" = tmpfs ] || { echo "FAIL: setup: $MNT is $(fstype "$MNT") after mounting a tmpfs"; exit 1; }

# A directory on some other file system: the work dir (/tmp here), or /.
OTHER=$WORK
[ "$(fstype "$OTHER")" = tmpfs ] && OTHER=/
[ "$(fstype "$OTHER")" = tmpfs ] && OTHER=

D=$WORK/mem.img
new_disk "$D" 32
DISK="disk = [ $(disk_item "$D" xvda) ]"

# ---- refusals, before anything has started in this run dir ----

# A fake VMM that only records being started: a refused config must never
# get that far, nor start xenstored.
FAKE_VMM=$WORK/fake-vmm
printf '#!/bin/sh\ntouch "%s"\nexit 1\n' "$WORK/fake-vmm.started" > "$FAKE_VMM"
chmod +x "$FAKE_VMM"

# refused NAME MEM_PATH MESSAGE-REGEX: `tandem run` with that mem_path
# exits non-zero with the message, before any VMM (or xenstored) starts.
refused() {
    write_cfg "$WORK/$1.cfg" "$1" "app=hello" "mem_path = \"$2\""
    TANDEM_VMM=$FAKE_VMM timeout 60 "$TANDEM" run "$WORK/$1.cfg" \
        > "$WORK/$1.out" 2> "$WORK/$1.err" < /dev/null
    RC=$?
    [ $RC != 0 ] && grep -q "$3" "$WORK/$1.err" &&
        [ ! -e "$WORK/fake-vmm.started" ] && [ ! -e "$TANDEM_RUNDIR/xenstored/pid" ]
}

if [ -n "$OTHER" ]; then
    if refused notmpfs "$OTHER" "mem_path '$OTHER' is not on a tmpfs"; then
        pass run_refuses_mem_path_not_on_tmpfs
    else
        fail run_refuses_mem_path_not_on_tmpfs "status $RC on $OTHER ($(fstype "$OTHER")), vmm started: $([ -e "$WORK/fake-vmm.started" ] && echo yes || echo no): $(show notmpfs)"
    fi
else
    echo "SKIP: run_refuses_mem_path_not_on_tmpfs: neither $WORK nor / is off tmpfs here"
fi
refused nodir "$WORK/no-such-dir" "mem_path '$WORK/no-such-dir': No such file or directory" &&
    pass run_refuses_missing_mem_path || fail run_refuses_missing_mem_path "status $RC: $(show nodir)"
refused relative guestmem "mem_path must be an absolute path" &&
    pass run_refuses_relative_mem_path || fail run_refuses_relative_mem_path "status $RC: $(show relative)"

# The checked configuration shows it (`tandem run -n`).
write_cfg "$WORK/dry.cfg" dry "app=hello" "mem_path = \"$MNT\""
TANDEM_VMM=$FAKE_VMM timeout 60 "$TANDEM" run -n "$WORK/dry.cfg" > "$WORK/dry.out" 2> "$WORK/dry.err" < /dev/null
RC=$?
if [ $RC = 0 ] && grep -qxF "mem_path = \"$MNT\"" "$WORK/dry.out" && [ ! -e "$WORK/fake-vmm.started" ]; then
    pass dry_run_prints_mem_path
else
    fail dry_run_prints_mem_path "status $RC: $(show dry)"
fi

# tandem-vmm on its own (no xenstore): it checks the directory itself.
# vmm_direct NAME DIR: status in $RC, stderr in $WORK/NAME.err.
vmm_direct() {
    timeout 30 "$TANDEM_BIN/tandem-vmm" --kernel "$KERNEL" --memory 32 --cmdline app=hello \
        --domid 7 --run-dir "$TANDEM_RUNDIR" --mem-path "$2" \
        > "$WORK/$1.out" 2> "$WORK/$1.err" < /dev/null
    RC=$?
}

vmm_direct vmm_nodir /nonexistent-dir
if [ $RC != 0 ] && grep -qF "tandem-vmm: --mem-path /nonexistent-dir: No such file or directory" "$WORK/vmm_nodir.err" &&
   ! grep -q "^tandem guest:" "$WORK/vmm_nodir.out"; then
    pass vmm_refuses_missing_mem_path
else
    fail vmm_refuses_missing_mem_path "status $RC: $(show vmm_nodir)"
fi

if [ -n "$OTHER" ]; then
    vmm_direct vmm_notmpfs "$OTHER"
    if [ $RC != 0 ] && grep -qF "tandem-vmm: --mem-path $OTHER: not a tmpfs (" "$WORK/vmm_notmpfs.err" &&
       ! grep -q "^tandem guest:" "$WORK/vmm_notmpfs.out"; then
        pass vmm_refuses_mem_path_not_on_tmpfs
    else
        fail vmm_refuses_mem_path_not_on_tmpfs "status $RC: $(show vmm_notmpfs)"
    fi
else
    echo "SKIP: vmm_refuses_mem_path_not_on_tmpfs: neither $WORK nor / is off tmpfs here"
fi

vmm_direct vmm_empty ""
if [ $RC != 0 ] && grep -qF -- "--mem-path: empty path" "$WORK/vmm_empty.err"; then
    pass vmm_refuses_empty_mem_path
else
    fail vmm_refuses_empty_mem_path "status $RC: $(show vmm_empty)"
fi

# hugetlbfs is refused by name (its mappings must be 2 MiB-aligned).
if mkdir -p "$HUGETLB" && mount -t hugetlbfs tandem-memtest-hugetlb "$HUGETLB" 2>/dev/null; then
    MOUNTED+=("$HUGETLB")
    vmm_direct vmm_hugetlb "$HUGETLB"
    write_cfg "$WORK/hugetlb.cfg" hugetlb "app=hello" "mem_path = \"$HUGETLB\""
    TANDEM_VMM=$FAKE_VMM timeout 60 "$TANDEM" run "$WORK/hugetlb.cfg" \
        > "$WORK/hugetlb.out" 2> "$WORK/hugetlb.err" < /dev/null
    RC2=$?
    if [ $RC != 0 ] && grep -qF "tandem-vmm: --mem-path $HUGETLB: not a tmpfs but hugetlbfs" "$WORK/vmm_hugetlb.err" &&
       [ $RC2 != 0 ] && grep -q "mem_path '$HUGETLB' is not on a tmpfs" "$WORK/hugetlb.err" &&
       [ ! -e "$WORK/fake-vmm.started" ]; then
        pass hugetlbfs_refused
    else
        fail hugetlbfs_refused "vmm status $RC: $(show vmm_hugetlb); run status $RC2: $(show hugetlb)"
    fi
    umount "$HUGETLB" && MOUNTED=("$MNT")   # no longer needed
else
    echo "SKIP: hugetlbfs_refused: cannot mount a hugetlbfs here"
fi

# A tmpfs too small for the guest: every page is reserved at start
# (posix_fallocate), so it is a clear error there, not a SIGBUS later.
SMALL=$WORK/small
if mkdir -p "$SMALL" && mount -t tmpfs -o size=16M,mode=0700 tandem-memtest-small "$SMALL" 2>/dev/null; then
    MOUNTED+=("$SMALL")
    vmm_direct vmm_small "$SMALL"
    if [ $RC != 0 ] && grep -qF "tandem-vmm: --mem-path $SMALL: cannot reserve 34 MiB of guest memory: No space left on device" \
           "$WORK/vmm_small.err" && ! grep -q "^tandem guest:" "$WORK/vmm_small.out" &&
       [ "$(used_kib "$SMALL")" = 0 ]; then
        pass vmm_refuses_tmpfs_too_small
    else
        fail vmm_refuses_tmpfs_too_small "status $RC, $(used_kib "$SMALL") KiB left used: $(show vmm_small)"
    fi
    umount "$SMALL" && MOUNTED=("$MNT")
else
    echo "SKIP: vmm_refuses_tmpfs_too_small: cannot mount a small tmpfs here"
fi

[ -z "$(pgrep -f -- "--run-dir $TANDEM_RUNDIR( |\$)")" ] &&
    pass refusals_leave_no_process || fail refusals_leave_no_process "$(pgrep -af -- "--run-dir $TANDEM_RUNDIR( |\$)")"

# ---- a guest with a disk, its memory on the huge tmpfs ----

boot verify "app=blkverify dev=xvda blocks=2048" "$DISK" "mem_path = \"$MNT\""
if [ $RC = 0 ] && grep -q "^blkverify: ok blocks=2048 devices=1 mode=write" "$WORK/verify.out"; then
    pass blkverify_with_memory_on_tmpfs
else
    fail blkverify_with_memory_on_tmpfs "status $RC: $(show verify)"
fi
# blkback lets go of the guest's pages (its persistent grants) a moment
# after the guest ends; only then is the memory file freed
wait_for 100 mount_empty && pass mount_empty_after_blkverify || fail mount_empty_after_blkverify "used $(used_kib "$MNT") KiB: $(ls -A "$MNT")"

# While blkbench reads through blkback into guest memory: the VMM (found by
# its arguments: our run dir; it must have been given this --mem-path) maps
# an unlinked file on the mount, in 2 MiB pages.
# Long enough for the samples below to see it at work (slower under emulation).
BENCH_S=2
emulated && BENCH_S=20   # a sample takes seconds there
write_cfg "$WORK/bench.cfg" bench "app=blkbench dev=xvda pattern=read bs=131072 qd=8 seconds=$BENCH_S" \
    "$DISK" "mem_path = \"$MNT\""
shp0=$(meminfo ShmemHugePages)
start_bg bench "$WORK/bench.cfg"
BENCH=$LAST_PID
VMM_PID= VMM_ARGS= MAX_USED=0 MAX_PMD=0 MAX_SHP=0 SEEN_FILES= SAW_MAPPING=
# sample: true once the VMM maps the file PMD-wise and the mount is in use.
sample() {
    local u pmd shp
    # The newest match, found again if it went away (a process that was
    # on its way out when first seen, as under emulation).
    if [ -z "$VMM_PID" ] || ! kill -0 "$VMM_PID" 2> /dev/null; then
        VMM_PID=$(pgrep -n -f -- "tandem-vmm .*--run-dir $TANDEM_RUNDIR( |\$)")
        [ -n "$VMM_PID" ] && VMM_ARGS=$(tr '\0' ' ' < "/proc/$VMM_PID/cmdline" 2>/dev/null)
        # An empty command line: the match was exiting (a zombie passes
        # kill -0); look again next time.
        [ -z "$VMM_ARGS" ] && VMM_PID=
    fi
    u=$(used_kib "$MNT")
    [ "$u" -gt "$MAX_USED" ] && MAX_USED=$u
    shp=$(meminfo ShmemHugePages)
    [ "$shp" -gt "$MAX_SHP" ] && MAX_SHP=$shp
    [ -n "$(ls -A "$MNT")" ] && SEEN_FILES="$SEEN_FILES $(ls -A "$MNT" | tr '\n' ' ')"
    [ -n "$VMM_PID" ] || return 1
    # Every mapping of a file on the mount: the unlinked one only.
    pmd=$(awk -v m="$MNT/" '
        /^[0-9a-f]+-[0-9a-f]+ / { on = (index($6, m) == 1); if (on && $7 == "(deleted)") saw = 1; next }
        on && $1 == "ShmemPmdMapped:" { kb += $2 }
        END { print kb + 0, saw + 0 }' "/proc/$VMM_PID/smaps" 2>/dev/null)
    [ "${pmd#* }" = 1 ] && SAW_MAPPING=1
    pmd=${pmd%% *}
    [ "${pmd:-0}" -gt "$MAX_PMD" ] && MAX_PMD=$pmd
    [ "$MAX_PMD" -gt 0 ] && [ "$MAX_USED" -gt 0 ]
}
for ((i = 0; i < 300; i++)); do
    sample && break
    kill -0 "$BENCH" 2>/dev/null || break
    sleep 0.1
done
# One more look while it still runs, for the largest figures.
kill -0 "$BENCH" 2>/dev/null && { sleep 0.5; sample; }
wait_rc "$BENCH" 600
if [ $RC = 0 ] && grep -q "^blkbench: pattern=read bs=131072 qd=8 .* errors=0 " "$WORK/bench.out"; then
    pass blkbench_with_memory_on_tmpfs
else
    fail blkbench_with_memory_on_tmpfs "status $RC: $(show bench)"
fi
INFO="vmm pid ${VMM_PID:-none}, mount used max ${MAX_USED} KiB, ShmemPmdMapped max ${MAX_PMD} KiB, ShmemHugePages ${shp0} -> max ${MAX_SHP} kB"
echo "info: $INFO"
case " $VMM_ARGS " in
    *" --mem-path $MNT "*) pass vmm_started_with_mem_path;;
    *) fail vmm_started_with_mem_path "vmm (${VMM_PID:-not found}) arguments: '$VMM_ARGS'";;
esac
[ "$MAX_USED" -gt 0 ] && pass mount_used_while_guest_runs || fail mount_used_while_guest_runs "$INFO"
[ -n "$SAW_MAPPING" ] && [ -z "$SEEN_FILES" ] &&
    pass memory_file_is_unlinked || fail memory_file_is_unlinked "mapping of a deleted file on $MNT seen: ${SAW_MAPPING:-no}; files listed:${SEEN_FILES:- none}"
[ "$MAX_PMD" -gt 0 ] && pass guest_memory_in_2mib_pages || fail guest_memory_in_2mib_pages "$INFO"

# Once the domain is gone (blkback, still running, has let go too) the
# mount holds nothing.
if wait_for 50 mount_empty; then
    pass mount_empty_after_guest_exits
else
    fail mount_empty_after_guest_exits "used $(used_kib "$MNT") KiB, files: $(ls -A "$MNT")"
fi
finish
