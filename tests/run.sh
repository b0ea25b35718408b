#!/bin/bash
# Runs every test and ends with one line: "N passed, N failed[, N skipped]".
#
# - Unit tests: every executable in $BUILD/tests/unit (Check suites). Their
#   "Checks: N, Failures: F, Errors: E" summary is counted case by case.
# - Integration and compat tests: tests/integration/*.sh, tests/compat/*.sh.
#   A script may print result lines "PASS: name", "FAIL: name: why",
#   "SKIP: name: why"; those are counted. A script that prints none counts
#   as one test: exit 0 passed, 77 skipped, anything else failed.
# - Fuzz targets: every executable in $BUILD/fuzz, run for $FUZZ_SECONDS
#   (default 30) each under ASan/libFuzzer (skipped when NO_FUZZ=1). They
#   run beside the test machines, which need both cores: 10 targets at 60 s
#   took the whole run to 19.4 min of its 20 (2026-12-02).
# TEST_FILTER=regex runs only the tests whose path matches.
#
# Guest tests (files with a '# tandem-test: guest' line) boot guests under
# /dev/kvm. Where the host has no usable /dev/kvm they run inside the test
# machine (tests/vm/run: QEMU TCG with nested SVM) and count as passed or
# failed like the rest; TANDEM_VM=0 skips them instead. Files tagged
# '# tandem-test: guest kvm-xen' boot Linux, which needs KVM with Xen
# support (KVM_CAP_XEN_HVM): where the host's KVM lacks it (a PVM host's
# kvm_pvm, Debian's stock kernel) they go to the test machine, whose KVM
# has it, while the other guest files run here. A line before the closing
# one says where guests ran. Files tagged '# tandem-test: guest hw-kvm'
# run a kernel on the emulated PC, which needs KVM that runs guest code on
# the CPU (VMX or SVM): on a PVM host (whose KVM emulates every instruction
# of such a guest) they go to the test machine too.
set -u
BUILD=${BUILD:-build}
export BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export TANDEM_ROOT=$ROOT
export TANDEM_BIN=$ROOT/$BUILD/bin
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
FILTER=${TEST_FILTER:-.}
pass=0 fail=0 skip=0
failed_names=()
LOGDIR=$(mktemp -d /tmp/tandem-test-logs.XXXXXX)

count_lines() { # file name rc
    local f=$1 name=$2 rc=$3 p f2 s
    p=$(grep -c '^PASS: ' "$f"); f2=$(grep -c '^FAIL: ' "$f"); s=$(grep -c '^SKIP: ' "$f")
    if [ $((p + f2 + s)) -gt 0 ]; then
        pass=$((pass + p)); fail=$((fail + f2)); skip=$((skip + s))
        grep -E '^(FAIL|SKIP): ' "$f" | sed "s|^|  $name: |"
        while read -r l; do failed_names+=("$name: $l"); done < <(grep '^FAIL: ' "$f")
        if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f2" = 0 ]; then
            fail=$((fail + 1)); failed_names+=("$name (exit $rc)")
            echo "  $name: exited $rc"
        fi
    else
        case $rc in
            0) pass=$((pass + 1));;
            77) skip=$((skip + 1)); echo "  SKIP $name: $(tail -n 1 "$f")";;
            *) fail=$((fail + 1)); failed_names+=("$name (exit $rc)");;
        esac
    fi
}

run_one() { # name, command...
    local name=$1; shift
    local log=$LOGDIR/$(echo "$name" | tr '/' '_').log
    local t0=$SECONDS rc limit=$TEST_TIMEOUT n
    # A script may need longer: '# tandem-test-timeout: S' (at least TEST_TIMEOUT).
    if [ -f "${!#}" ]; then
        n=$(sed -n 's/^# tandem-test-timeout: *\([0-9][0-9]*\).*/\1/p' "${!#}" 2>/dev/null | head -n 1)
        [ -n "$n" ] && [ "$n" -gt "$limit" ] && limit=$n
    fi
    # Waits in the file end before this does (cli_lib.bash's wait_for).
    TANDEM_TEST_DEADLINE=$((EPOCHSECONDS + limit)) \
        timeout --foreground -k 10 "$limit" "$@" > "$log" 2>&1 < /dev/null
    rc=$?
    [ $rc = 124 ] && echo "timed out after ${limit}s" >> "$log"
    echo "[$name] rc=$rc $((SECONDS - t0))s"
    if [ $rc != 0 ] && [ $rc != 77 ]; then sed 's/^/    | /' "$log" | tail -n 40; fi
    RC=$rc LOG=$log
}

for t in "$BUILD"/tests/unit/*; do
    [ "${TANDEM_TEST_GUEST_ONLY:-0}" = 1 ] && break
    [ -x "$t" ] && [ -f "$t" ] || continue
    echo "$t" | grep -qE "$FILTER" || continue
    run_one "unit/$(basename "$t")" env CK_FORK=yes CK_DEFAULT_TIMEOUT=60 "$t"
    sum=$(grep -oE 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$LOG" | tail -n 1)
    if [ -n "$sum" ]; then
        n=$(echo "$sum" | awk -F'[ ,]+' '{print $2}')
        fl=$(echo "$sum" | awk -F'[ ,]+' '{print $4}')
        er=$(echo "$sum" | awk -F'[ ,]+' '{print $6}')
        pass=$((pass + n - fl - er)); fail=$((fail + fl + er))
        [ $((fl + er)) -gt 0 ] && failed_names+=("unit/$(basename "$t")")
        grep -E ':[EF]:' "$LOG" | sed 's/^/  /'
    else
        count_lines "$LOG" "unit/$(basename "$t")" "$RC"
    fi
done

kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
# The host's KVM hands Xen hypercalls to userspace (KVM_CAP_XEN_HVM, 38).
kvm_xen_usable() {
    local n
    n=$("$BUILD/tests/vmm/kvm-cap" --dev /dev/kvm 38 2> /dev/null) && [ "${n:-0}" -gt 0 ] 2> /dev/null
}
# The host's KVM runs any guest code on the CPU (VMX or SVM): a PVM host's
# KVM emulates every instruction of a non-PVM guest, fine for firmware,
# hopeless for a Linux kernel.
hw_kvm_usable() { grep -qwE 'vmx|svm' /proc/cpuinfo; }
is_guest_test() { grep -q '^# tandem-test: guest' "$1"; }
needs_kvm_xen() { grep -q '^# tandem-test: guest kvm-xen' "$1"; }
needs_hw_kvm() { grep -q '^# tandem-test: guest hw-kvm' "$1"; }

# GUEST_ONLY=1 (the inner run inside the test machine): only guest tests,
# counts left in $TANDEM_TEST_RESULTS for the outer run.
GUEST_ONLY=${TANDEM_TEST_GUEST_ONLY:-0}
# guests / xen: where the guest files / the Linux-guest files run (here,
# vm or skip).
if [ "${TANDEM_TEST_VM:-0}" = 1 ]; then
    where="guests: ran in the test machine (QEMU TCG, nested KVM: timings are not the product's)"
    guests=here xen=here
elif kvm_usable; then
    guests=here xen=here
    where="guests: ran on this host's /dev/kvm"
    hw=here
    if ! kvm_xen_usable && [ "${TANDEM_VM:-1}" != 0 ]; then
        xen=vm
        where="guests: ran on this host's /dev/kvm; the Linux-guest files in the test machine (tests/vm: QEMU TCG, nested KVM with Xen support, which this host's KVM lacks)"
    fi
    if ! hw_kvm_usable && [ "${TANDEM_VM:-1}" != 0 ]; then
        hw=vm
        where="$where; the Linux-on-the-PC files in the test machine (this host's KVM has no VMX/SVM)"
    fi
elif [ "${TANDEM_VM:-1}" = 0 ]; then
    where="guests: skipped (no /dev/kvm here and TANDEM_VM=0)"
    guests=skip xen=skip
else
    where="guests: ran in the test machine (tests/vm: QEMU TCG, nested KVM), this host has no /dev/kvm"
    guests=vm xen=vm
fi
guest_files=() host_files=()
for t in tests/integration/*.sh tests/compat/*.sh; do
    [ -f "$t" ] || continue
    echo "$t" | grep -qE "$FILTER" || continue
    if is_guest_test "$t"; then
        mode=$guests
        needs_kvm_xen "$t" && mode=$xen
        needs_hw_kvm "$t" && mode=${hw:-$guests}
        case $mode in
            here) ;;
            vm) guest_files+=("$t"); continue;;
            skip) skip=$((skip + 1)); echo "  SKIP ${t#tests/}: no /dev/kvm and TANDEM_VM=0"; continue;;
        esac
    elif [ "$GUEST_ONLY" = 1 ]; then
        continue
    fi
    host_files+=("$t")
done

[ $guests = vm ] && [ ${#guest_files[@]} = 0 ] && where="guests: none in this selection (no /dev/kvm here)"
# The guest files run in the test machine, which runs on one core (-smp 1):
# in TANDEM_VM_LANES machines at once (default 2, one per core of these
# hosts), the files shared out by the time they take there, in the
# background beside the host's integration tests and fuzz targets; their
# counts join ours at the end.
VM_PIDS=()
trap 'for p in "${VM_PIDS[@]}"; do kill -TERM "$p" 2> /dev/null; done' EXIT
if [ ${#guest_files[@]} -gt 0 ]; then
    # The host's own files share the cores with the test machines: their
    # timing checks say so instead of judging (emulation.sh host_shared).
    export TANDEM_TEST_HOST_SHARED=1
    mkdir -p "$BUILD"
    lanes=${TANDEM_VM_LANES:-2}
    case $lanes in ''|*[!0-9]*|0) lanes=1;; esac
    [ "$lanes" -gt ${#guest_files[@]} ] && lanes=${#guest_files[@]}
    echo "[guest tests: ${#guest_files[@]} files in $lanes test machine(s), in the background]"
    vm_t0=$SECONDS
    # Files to lanes longest first, each to the lane with the least so far,
    # by the seconds a file says it takes in the test machine
    # ('# tandem-test-vm-seconds: N', default 30).
    declare -a lane_load lane_files
    for ((l = 0; l < lanes; l++)); do lane_load[l]=0 lane_files[l]=; done
    while read -r secs t; do
        best=0
        for ((l = 1; l < lanes; l++)); do [ "${lane_load[l]}" -lt "${lane_load[best]}" ] && best=$l; done
        lane_load[best]=$((lane_load[best] + secs))
        lane_files[best]="${lane_files[best]} $t"
    done < <(for t in "${guest_files[@]}"; do
                 n=$(sed -n 's/^# tandem-test-vm-seconds: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
                 echo "${n:-30} $t"
             done | sort -k1,1nr -k2)
    for ((l = 0; l < lanes; l++)); do
        read -r -a mine <<< "${lane_files[l]}"
        results[l]=$(mktemp "$ROOT/$BUILD/.vm-results.XXXXXX")
        vmlog[l]=$LOGDIR/test-machine-$((l + 1)).log
        vmfiles[l]=${#mine[@]}
        filter="^($(printf '%s|' "${mine[@]}" | sed 's/|$//; s/\./\\./g'))\$"
        # a machine that stops is started again and resumes (see JOURNAL):
        # once per file and twice more, five boots at most
        boots=$((vmfiles[l] + 2)); [ $boots -gt 5 ] && boots=5
        TANDEM_TEST_GUEST_ONLY=1 TANDEM_TEST_RESULTS=${results[l]} TEST_FILTER=$filter NO_FUZZ=1 \
            TANDEM_VM_BOOTS=$boots tests/vm/run bash tests/run.sh > "${vmlog[l]}" 2>&1 < /dev/null &
        VM_PIDS+=($!)
    done
fi

# The inner run's journal (TANDEM_TEST_RESULTS, in the work tree, which
# outlives the test machine): "boot" as a run starts, "start NAME" before a
# file, "done NAME P F S" and its "failed ..." lines after it, each synced
# at once. A machine that stops is started again (tests/vm/run) and the run
# resumes: files done are counted from the journal, the file that was
# running when it stopped runs again, and a file during which the
# machine stopped three times fails without a fourth try, so that the files
# after it still run. The last file a boot finished runs once more too if it
# failed ("retry NAME" voids its first result, which is printed): a machine
# about to fail fails its guests first (CI at 21:52: linux_boot's crash
# guest triple-faulted in vCPU 1, then the machine's kernel panicked in the
# vcpu1 thread of the next file).
JOURNAL=${TANDEM_TEST_RESULTS:-}
journal() { echo "$*" >> "$JOURNAL"; sync "$JOURNAL" 2> /dev/null; }
# journal_tally FILE: "count P F S FILES" and the "failed ..." lines that
# count, a retried file's first result left out; serves both runs.
journal_tally() {
    awk '{ line[NR] = $0; k[NR] = $1; n[NR] = $2; if ($1 == "retry") last[$2] = NR }
         END { for (i = 1; i <= NR; i++) {
                   if (k[i] == "done") { cur = n[i]; keep = i > last[cur]
                       if (keep) { split(line[i], w, " "); p += w[3]; f += w[4]; s += w[5]; d++ } }
                   else if (k[i] == "failed" && keep) out = out line[i] "\n"
               }
               printf "count %d %d %d %d\n%s", p, f, s, d, out }' "$1"
}
# journal_add FILE PREFIX: FILE's tally added to the counts and its failed
# lines to failed_names (each after PREFIX); journal_done = its files done.
journal_add() {
    local kind rest p f s
    journal_done=0
    while read -r kind rest; do
        case $kind in
            count) read -r p f s journal_done <<< "$rest"
                   pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s));;
            failed) failed_names+=("$2$rest");;
        esac
    done < <(journal_tally "$1")
}
# journal_since NAME KIND: how many KIND lines NAME has since its retry.
journal_since() {
    awk -v n="$1" -v k="$2" '$1 == "retry" && $2 == n { c = 0 } $1 == k && $2 == n { c++ } END { print c + 0 }' "$JOURNAL"
}
if [ -n "$JOURNAL" ] && [ -s "$JOURNAL" ]; then
    # the last file the stopped boot finished, if it failed and never ran again
    last=$(awk '$1 == "boot" { d = "" } $1 == "done" { d = $2 " " $4 } END { print d }' "$JOURNAL")
    if [ -n "$last" ] && [ "${last#* }" != 0 ] && ! grep -qxF "retry ${last% *}" "$JOURNAL"; then
        echo "  ${last% *}: failed just before the test machine stopped; runs again. Its first run:"
        awk -v n="${last% *}" '$1 == "done" { cur = $2 } $1 == "failed" && cur == n { sub(/^failed /, "    "); print }' "$JOURNAL"
        journal "retry ${last% *}"
    fi
    journal_add "$JOURNAL" ""
    echo "[resumed: $journal_done files done before the test machine stopped]"
fi
[ -n "$JOURNAL" ] && journal boot
for t in "${host_files[@]}"; do
    name=${t#tests/}
    if [ -n "$JOURNAL" ]; then
        [ "$(journal_since "$name" done)" = 0 ] || continue
        starts=$(journal_since "$name" start)
        # Three starts: the emulator's rare whole-machine stop (an L1 vCPU
        # that never leaves its nested guest, docs/testing.md) came twice
        # in a row in linux_boot (CI 2026-12-04 03:27); a file that stops
        # the machine every time still fails here.
        if [ "$starts" -ge 3 ]; then
            why="$name: the test machine stopped three times while it ran (its console is in the machine's log above)"
            echo "  $why"
            fail=$((fail + 1)); failed_names+=("$why")
            journal "done $name 0 1 0"; journal "failed $why"
            continue
        fi
        [ "$starts" -ge 1 ] && echo "  $name: runs again (the test machine stopped while it ran, $starts time(s))"
        journal "start $name"
        p0=$pass f0=$fail s0=$skip n0=${#failed_names[@]}
    fi
    run_one "$name" bash "$t"
    count_lines "$LOG" "$name" "$RC"
    if [ -n "$JOURNAL" ]; then
        journal "done $name $((pass - p0)) $((fail - f0)) $((skip - s0))"
        for n in "${failed_names[@]:n0}"; do journal "failed $n"; done
    fi
done

if [ "${NO_FUZZ:-0}" != 1 ] && [ "$GUEST_ONLY" != 1 ]; then
    for t in "$BUILD"/fuzz/*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        echo "$t" | grep -qE "$FILTER" || continue
        corpus=$(mktemp -d /tmp/tandem-fuzz.XXXXXX)
        seeds=tests/fuzz/corpus/$(basename "$t")
        [ -d "$seeds" ] || seeds=
        # A finding is a failure (libFuzzer's own code for it is 77, our
        # "skipped"); its input is kept with the logs, not in the tree.
        run_one "fuzz/$(basename "$t")" "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
            -error_exitcode=1 -artifact_prefix="$LOGDIR/$(basename "$t")-" "$corpus" $seeds
        count_lines "$LOG" "fuzz/$(basename "$t")" "$RC"
        rm -rf "$corpus"
    done
fi

for ((l = 0; l < ${#VM_PIDS[@]}; l++)); do
    wait "${VM_PIDS[l]}"
    vrc=$?
    sed "s/^/  vm$((l + 1))| /" "${vmlog[l]}"
    echo "[guest tests: test machine $((l + 1)) status $vrc, $((SECONDS - vm_t0))s since the start]"
    # the lane's journal (see JOURNAL): what ran is counted, whatever
    # became of the machine; files it never finished fail
    journal_add "${results[l]}" "vm$((l + 1)): "
    done_files=$journal_done
    if [ "$done_files" -lt "${vmfiles[l]}" ]; then
        fail=$((fail + vmfiles[l] - done_files))
        failed_names+=("test machine $((l + 1)) (status $vrc): $((vmfiles[l] - done_files)) of its ${vmfiles[l]} guest test files did not run to their end")
    fi
    rm -f "${results[l]}"
done
VM_PIDS=()

if [ ${#failed_names[@]} -gt 0 ]; then
    echo "failed:"; printf '  %s\n' "${failed_names[@]}"
    echo "logs in $LOGDIR"
else
    rm -rf "$LOGDIR"
fi
echo "$where"
line="$pass passed, $fail failed"
[ $skip -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ $fail = 0 ]
