#!/bin/bash
# tandem-bench: guest hw-kvm (Linux on the emulated PC: KVM that runs guest code on the CPU; in the test machine on a PVM host)
# Debian's own kernel on the full-emulation PC beside the same kernel on
# QEMU's PC, in the same run, on the same KVM (issue 14 §3): the time to
# the guest's first userspace line, and fio inside the guest on the NVMe
# namespace (Linux's nvme driver; tandem's NVMe model on the block engine,
# QEMU's nvme device with aio=io_uring, cache=none) against fio on the
# host on the same file (the block cases of tests/bench/fio_host.inc,
# before and after the guests, the better sample shown). The PV path's
# figures for the same cases (xen-blkfront -> tandem-blkback) are
# tests/bench/linux_guest_bench.sh's, in the same `make bench`.
#
# Both machines boot directly (tandem-vmm --machine pc --kernel; QEMU
# -kernel, which goes through SeaBIOS and linuxboot: QEMU has no
# firmware-less PC), 512 MiB, 2 vCPUs, COM1 on stdio, one NVMe disk; the
# initramfs is tests/lib/linux-initramfs.sh's (busybox, the nvme module,
# fio) with tests/integration/linux/lt-run's `bench` action. Milestone:
# from the process's start to "LT: userspace" on COM1 (watched every
# 20 ms). LINUX_BENCH_SECONDS per fio case (5), LINUX_BENCH_DISK_MIB (512;
# 256 in the test machine). Each machine is stopped by its pid once it
# printed "LT: done".
#
# Skips (status 0, with the reason) without /dev/kvm, QEMU, fio, a kernel
# with its modules; on a host whose KVM has no VMX/SVM tests/bench/run.sh
# runs it in the test machine, where every row is marked "not comparable:
# emulated".
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
QEMU=${TANDEM_QEMU:-qemu-system-x86_64}
SECS=${LINUX_BENCH_SECONDS:-5}
KERNEL=${TANDEM_LINUX_KERNEL:-/boot/vmlinuz-$(uname -r)}
MODULES=${TANDEM_LINUX_MODULES:-/lib/modules/$(uname -r)}
LT=$ROOT/tests/integration/linux
skip() { echo "SKIP: Linux on the PC benchmark: $*"; exit 0; }
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm is missing or not usable"
grep -qwE 'vmx|svm' /proc/cpuinfo ||
    skip "this host's KVM has no VMX/SVM (a kernel would run in KVM's instruction emulator)"
HAVE_QEMU=1   # without QEMU (the test machine's image has none) its column says so
command -v "$QEMU" > /dev/null || HAVE_QEMU=0
command -v fio > /dev/null || skip "no fio (run 'make deps')"
[ -f "$KERNEL" ] && [ -d "$MODULES" ] ||
    skip "no Linux kernel at $KERNEL with modules at $MODULES (set TANDEM_LINUX_KERNEL, TANDEM_LINUX_MODULES)"
[ -x "$BIN/tandem-vmm" ] || { echo "Linux on the PC benchmark: $BIN/tandem-vmm is missing (make)" >&2; exit 1; }
. "$ROOT/tests/bench/fio_host.inc"

T=$(mktemp -d /tmp/tandem-pc-linux-bench.XXXXXX) || exit 1
DISK=
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
    rm -rf "$T"
    [ -n "$DISK" ] && rm -f "$DISK"
}
trap cleanup EXIT
cp "$BIN/tandem-vmm" "$T/tandem-vmm" || exit 1   # the binary measured, whatever is rebuilt meanwhile

# Under emulation (the test machine) Linux keeps its periodic tick (see
# tests/integration/linux_lib.bash) and every wait is longer.
F=1 EXTRA=
if [ "${TANDEM_TEST_VM:-0}" = 1 ]; then F=8 EXTRA=nohz=off; fi

if ! out=$(bash "$ROOT/tests/lib/linux-initramfs.sh" -o "$T/initrd.gz" -i "$LT/init" -M "$MODULES" \
               --no-default-modules -m nvme -x fio -f "$LT/lt-run:/lt-run" 2>&1); then
    echo "Linux on the PC benchmark: building the initramfs: $out" >&2
    exit 1
fi

# The disk: a fully allocated file on a disk's file system (not /tmp, which
# may be a tmpfs; not the work tree, 9p in the test machine).
DISK_MIB=${LINUX_BENCH_DISK_MIB:-$([ "${TANDEM_TEST_VM:-0}" = 1 ] && echo 256 || echo 512)}
DISK=$(mktemp /var/tmp/tandem-pc-linux-disk.XXXXXX) || exit 1
fio --name=layout --filename="$DISK" --size=${DISK_MIB}M --rw=write --bs=1M --direct=1 \
    --ioengine=io_uring --iodepth=8 --output-format=terse > /dev/null ||
    { echo "Linux on the PC benchmark: cannot lay out $DISK" >&2; exit 1; }

fio_list=
declare -A host1 host2 tandem qemu
while read -r name _ rw bs qd _ _; do
    fio_list=${fio_list:+$fio_list,}$name:$rw:$bs:$qd
    host1[$name]=$(fio_run "$DISK" malloc "$SECS" "$rw" "$bs" "$qd")
done <<< "$BLK_CASES"
NCASES=$(wc -l <<< "$BLK_CASES")
CMDLINE="console=ttyS0 panic=-1 quiet $EXTRA lt.run=bench lt.dev=nvme0n1 lt.secs=$SECS lt.fio=$fio_list"

lt() { sed -n "s/^LT: $2 \{0,1\}//p" "$T/$1.con" 2> /dev/null | tr -d '\r' | head -n 1; }

# boot NAME CMD...: runs CMD (COM1 on its stdout), the ms from its start
# to "LT: userspace" in BOOT_MS[NAME] (empty if it never came), until "LT:
# done" or the wait ends; then stops it by its pid.
declare -A BOOT_MS
boot() {
    local name=$1 t0 pid limit
    shift
    t0=$(date +%s%N)
    "$@" < /dev/null > "$T/$name.con" 2> "$T/$name.err" &
    pid=$!
    PIDS+=("$pid")
    BOOT_MS[$name]=
    limit=$((SECONDS + 120 * F))
    while [ $SECONDS -lt $limit ] && kill -0 "$pid" 2> /dev/null; do
        if grep -q "^LT: userspace" "$T/$name.con" 2> /dev/null; then
            BOOT_MS[$name]=$((($(date +%s%N) - t0) / 1000000))
            break
        fi
        sleep 0.02
    done
    limit=$((SECONDS + (60 + NCASES * (SECS + 5)) * F))
    while [ $SECONDS -lt $limit ] && kill -0 "$pid" 2> /dev/null &&
          ! grep -q "^LT: done" "$T/$name.con" 2> /dev/null; do
        sleep 0.2
    done
    kill -TERM "$pid" 2> /dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
}

boot tandem "$T/tandem-vmm" --machine pc --kernel "$KERNEL" --ramdisk "$T/initrd.gz" --memory 512 \
    --vcpus 2 --cmdline "$CMDLINE" --disk "$DISK" --name pcbench --run-dir "$T/run" --console stdio
[ $HAVE_QEMU = 1 ] && boot qemu "$QEMU" -accel kvm -cpu host -machine pc -m 512 -smp 2 -nodefaults -no-user-config \
    -display none -monitor none -serial stdio -no-reboot -kernel "$KERNEL" -initrd "$T/initrd.gz" \
    -append "$CMDLINE" -drive "file=$DISK,if=none,id=d0,format=raw,cache=none,aio=io_uring" \
    -device nvme,drive=d0,serial=tandem-bench
while read -r name _ rw bs qd _ _; do
    tandem[$name]=$(lt tandem "fio $name" | fio_summary)
    qemu[$name]=$(lt qemu "fio $name" | fio_summary)
    host2[$name]=$(fio_run "$DISK" malloc "$SECS" "$rw" "$bs" "$qd")
done <<< "$BLK_CASES"

# show LINE KEY: the value, or "FAILED"
show() { local v; v=$(field "$1" "$2"); echo "${v:-FAILED}"; }
# ratio A B [p50]: A/B to 2 places (for p50, B/A: above 1 is better for A), or "-"
ratio() {
    awk -v a="${1:-0}" -v b="${2:-0}" -v p="${3:-}" 'BEGIN {
        if (a <= 0 || b <= 0) { print "-"; exit }
        printf "%.2fx", p == "p50" ? b / a : a / b }'
}

kvm=$(for m in kvm_intel kvm_amd kvm_pvm; do [ -d /sys/module/$m ] && echo $m; done | head -1)
echo "## Linux on the PC (Debian $(basename "$KERNEL" | sed 's/^vmlinuz-//')): tandem-vmm beside QEMU, fio on NVMe vs the host"
echo
echo "Command: \`BENCH_FILTER=pc_linux make bench\`. One boot each, tandem first: \`tandem-vmm --machine pc --kernel\` (direct boot) and \`$QEMU -accel kvm -cpu host -machine pc -kernel\` (SeaBIOS + linuxboot), both 512 MiB, 2 vCPUs, on ${kvm:-KVM}, the same kernel, initramfs and command line; a $DISK_MIB MiB file as an NVMe namespace (tandem: its NVMe model on the io_uring block engine; QEMU: \`-device nvme\`, \`aio=io_uring,cache=none\`); fio inside (io_uring, O_DIRECT, ${SECS} s a case, on /dev/nvme0n1); the host's fio on the same file before and after (the better sample). Ratios: tandem/host and tandem/QEMU (for p50, the other's over tandem's: above 1 means tandem is faster)."
echo
echo "| boot | tandem-vmm | QEMU | QEMU/tandem |"
echo "|---|---|---|---|"
qb="${BOOT_MS[qemu]:-FAILED} ms"
[ $HAVE_QEMU = 1 ] || qb="not run"
echo "| process start to the guest's first userspace line (host wall clock) | ${BOOT_MS[tandem]:-FAILED} ms | $qb | $(ratio "${BOOT_MS[qemu]:-0}" "${BOOT_MS[tandem]:-0}") |"
echo
echo "| case | host | tandem NVMe | QEMU NVMe | tandem/host | tandem/QEMU | host p50/p99 µs | tandem p50/p99 µs | QEMU p50/p99 µs |"
echo "|---|---|---|---|---|---|---|---|---|"
failed=0
while read -r name _ _ _ _ metric _; do
    key=$metric unit=
    case $metric in
        p50) key=p50_us unit=" µs" ;;
        iops) unit=" IOPS" ;;
        mbps) unit=" MB/s" ;;
    esac
    hl=$(better "$key" "${host1[$name]}" "${host2[$name]}")
    tl=${tandem[$name]} ql=${qemu[$name]}
    [ -n "$tl" ] || failed=1
    qv="$(show "$ql" "$key")$unit" qp="$(show "$ql" p50_us)/$(show "$ql" p99_us)"
    [ $HAVE_QEMU = 1 ] || qv="not run" qp="not run"
    echo "| $name ($metric) | $(show "$hl" "$key")$unit | $(show "$tl" "$key")$unit | $qv |" \
         "$(ratio "$(field "$tl" "$key")" "$(field "$hl" "$key")" "$metric") |" \
         "$(ratio "$(field "$tl" "$key")" "$(field "$ql" "$key")" "$metric") |" \
         "$(show "$hl" p50_us)/$(show "$hl" p99_us) | $(show "$tl" p50_us)/$(show "$tl" p99_us) | $qp |"
done <<< "$BLK_CASES"
echo
if [ -z "${BOOT_MS[tandem]}" ] || [ "$failed" = 1 ]; then
    echo "Linux on the PC benchmark: tandem's guest failed: $(tail -n 8 "$T/tandem.con" "$T/tandem.err" | tr -d '\r' | tr '\n' '|')" >&2
    exit 1
fi
if [ $HAVE_QEMU = 0 ]; then
    echo "QEMU: not run (no $QEMU here; qemu-system-x86 is in 'make deps', not in the test machine's image)."
elif [ -z "${BOOT_MS[qemu]:-}" ]; then
    echo "QEMU's guest did not reach userspace: $(tail -n 4 "$T/qemu.err" | tr '\n' ' ' | cut -c1-300)"
fi
exit 0
