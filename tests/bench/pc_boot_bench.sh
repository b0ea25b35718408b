#!/bin/bash
# The full-emulation PC's boot time beside QEMU's (run by tests/bench/run.sh;
# BENCH_FILTER=pc_boot): tandem-vmm --firmware and qemu-system-x86_64
# -accel kvm, on this host's KVM, in the same run, with Debian's SeaBIOS
# (the same bios-256k.bin: tandem's build/firmware copy is compared with
# QEMU's) and the same disk images, built here by
# tests/integration/pc_images.bash: our boot sector (pc_bootsector_image)
# and Debian's GRUB (pc_grub_image), each disk on NVMe on both machines.
# The QEMU machine is as bare as tandem's: -nodefaults, COM1 on stdio, no
# monitor, 64 MiB, one vCPU, the disk on QEMU's NVMe.
#
# Milestones, from the process's start (fork + exec), by watching COM1's
# output: the SeaBIOS banner ("SeaBIOS (version"), the boot sector's
# BOOT-OK (after its INT 13h read through SeaBIOS's NVMe driver), GRUB's
# grub.cfg line (read from the ext2 partition) and its `grub>` prompt.
# tests/bench/pc_boot_run.py times each boot with the boot tests' own
# serial driver (tests/integration/pc_serial.py, imported) and then checks
# it as those tests do (the boot sector's whole output; `cat` of a file
# typed at `grub>`, every character): a boot that fails the check counts as
# failed, not as a time. Runs alternate, tandem then QEMU, for each image,
# BENCH_PC_ROUNDS rounds (default 3; BENCH_QUICK=1: 1); the table has each
# side's median, the ratio tandem/QEMU of the medians and every run.
#
# The Linux milestone (the guest's first userspace line beside QEMU) is
# tests/bench/pc_linux_bench.sh's, with fio on NVMe: it needs KVM with
# VMX/SVM (elsewhere it runs in the test machine, marked emulated).
#
# Skips (status 0, with the reason) without a usable /dev/kvm, QEMU or
# python3; QEMU that cannot use KVM here makes its column "not
# comparable" with tandem's figures still shown. Every process is stopped by
# its pid (pc_boot_run.py); the images and outputs are in a mktemp -d
# directory removed at exit. BOOT_WAIT: seconds allowed per step (180).
set -u
BUILD=${BUILD:-build}
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${TANDEM_BIN:-$ROOT/$BUILD/bin}
ROM=${TANDEM_PC_FIRMWARE:-$ROOT/$BUILD/firmware/bios-256k.bin}
QEMU=${TANDEM_QEMU:-qemu-system-x86_64}
QEMU_BIOS=${TANDEM_PC_SEABIOS:-/usr/share/seabios/bios-256k.bin}
ROUNDS=${BENCH_PC_ROUNDS:-3}
[ "${BENCH_QUICK:-0}" = 1 ] && ROUNDS=1
export BOOT_WAIT=${BOOT_WAIT:-180}
HERE=$ROOT/tests/bench

skip() { echo "SKIP: PC boot benchmark: $*"; exit 0; }
if ! { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
    skip "/dev/kvm is missing or not usable"
fi
command -v "$QEMU" > /dev/null || skip "no $QEMU (qemu-system-x86; run 'make deps')"
command -v python3 > /dev/null || skip "no python3 to watch the serial port"
[ -f "$QEMU_BIOS" ] || skip "no $QEMU_BIOS (seabios; run 'make deps')"
for f in "$BIN/tandem-vmm" "$ROM"; do
    [ -e "$f" ] || { echo "PC boot bench: $f is missing (make)" >&2; exit 1; }
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "PC boot bench: BENCH_PC_ROUNDS='$ROUNDS'" >&2; exit 2; }

# shellcheck source=tests/integration/pc_images.bash
. "$ROOT/tests/integration/pc_images.bash"

T=$(mktemp -d /tmp/tandem-pc-boot-bench.XXXXXX) || exit 1
QPROBE=
cleanup() {
    if [ -n "$QPROBE" ]; then
        kill -KILL "$QPROBE" 2> /dev/null
        wait "$QPROBE" 2> /dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT

# The binary measured: a copy taken now, so that a rebuild during the run
# (other work on this host) cannot change it between runs.
cp "$BIN/tandem-vmm" "$T/tandem-vmm" || exit 1
VMM=$T/tandem-vmm

if cmp -s "$ROM" "$QEMU_BIOS"; then
    fwnote="the same file (\`$QEMU_BIOS\`; tandem's \`${ROM#"$ROOT"/}\` is a byte-identical copy)"
else
    fwnote="**different files**: tandem's \`${ROM#"$ROOT"/}\` (sha256 $(sha256sum "$ROM" | cut -c1-12)) and QEMU's \`$QEMU_BIOS\` (sha256 $(sha256sum "$QEMU_BIOS" | cut -c1-12))"
fi
kvm=$(for m in kvm_pvm kvm_intel kvm_amd; do [ -d /sys/module/$m ] && echo $m; done | head -1)

# Can QEMU use KVM here? Its accelerator is set up before the machine
# starts (-S: then it waits): an early exit says no.
"$QEMU" -accel kvm -nodefaults -display none -serial none -monitor none -m 16 -S \
    > /dev/null 2> "$T/qemu-probe.err" &
QPROBE=$!
qemu_kvm=1
for _ in $(seq 30); do
    sleep 0.1
    kill -0 "$QPROBE" 2> /dev/null || { qemu_kvm=0; break; }
done
kill -KILL "$QPROBE" 2> /dev/null
wait "$QPROBE" 2> /dev/null
QPROBE=
qemu_why=$(grep -v "^qemu-system-x86_64: warning" "$T/qemu-probe.err" | tr '\n' ' ' | cut -c1-200)

# The images.
MSG="tandem pc_boot_bench: booted from the NVMe namespace"
if ! err=$(pc_bootsector_image "$T/boot.img" "$MSG" 2>&1); then
    echo "PC boot bench: the boot sector image: $err" >&2
    exit 1
fi
grub_ok=1
if ! err=$(pc_grub_image "$T/grub.img" "$T/secret.hex" 2>&1); then
    grub_ok=0 grub_why=$err
fi

# The two machines' commands, into the array CMD.
tandem_cmd() { # IMG NAME
    CMD=("$VMM" --firmware "$ROM" --disk "$1" --memory 64 --console stdio --run-dir "$T/run-$2" --name "$2")
}
qemu_cmd() { # IMG
    CMD=("$QEMU" -accel kvm -nodefaults -nographic -serial stdio -monitor none -m 64 -bios "$QEMU_BIOS"
         -drive "file=$1,if=none,id=d,format=raw" -device "nvme,drive=d,serial=t1")
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date -u '+%Y-%m-%d %H:%M UTC')
: > "$T/results"
n=0
# one SIDE CASE ROUND: one boot, its line appended to $T/results.
one() {
    local side=$1 kase=$2 round=$3 d img line
    n=$((n + 1))
    d=$T/run$n
    mkdir -p "$d"
    img=$T/$kase.img
    if [ "$side" = tandem ]; then
        tandem_cmd "$img" "pcb$n"
    else
        qemu_cmd "$img"
    fi
    if [ "$kase" = boot ]; then
        line=$(python3 "$HERE/pc_boot_run.py" boot "$d" "$MSG" "$T/boot.img.expect" -- "${CMD[@]}")
    else
        line=$(python3 "$HERE/pc_boot_run.py" grub "$d" "$T/secret.hex" -- "${CMD[@]}")
    fi
    echo "side=$side case=$kase round=$round $line" >> "$T/results"
    echo "pc_boot_bench: round $round $side $kase: $line" >&2
    rm -rf "$d"
}
for r in $(seq "$ROUNDS"); do
    for kase in boot grub; do
        [ $kase = grub ] && [ $grub_ok = 0 ] && continue
        one tandem $kase "$r"
        [ $qemu_kvm = 1 ] && one qemu $kase "$r"
    done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## The PC: boot to the SeaBIOS banner, the boot sector and GRUB, tandem-vmm vs QEMU -accel kvm"
echo
echo "Run $t_start on $(uname -n), $(nproc) CPUs, kernel $(uname -r), KVM module ${kvm:-unknown}; load average $load0 at the start, $load1 at the end. $ROUNDS round(s), each: the boot-sector disk on tandem-vmm then on QEMU, then the GRUB disk on tandem-vmm then on QEMU. Firmware: $fwnote. QEMU: $("$QEMU" --version | head -1). Times are from the process's start to the milestone's text on COM1 (the output watched every 20 ms)."
echo
echo "Commands (IMG: the boot-sector image, 1 MiB, or the GRUB image, 64 MiB, of tests/integration/pc_images.bash; tandem-vmm is a copy of \`${BIN#"$ROOT"/}/tandem-vmm\` taken at the start):"
echo
tandem_cmd IMG X
echo "    ${CMD[*]}" | sed "s|$T/tandem-vmm|${BIN#"$ROOT"/}/tandem-vmm|; s|$T/run-X|TMPDIR|; s|$ROOT/||g"
qemu_cmd IMG
echo "    ${CMD[*]}"
echo
[ $grub_ok = 0 ] && echo "GRUB rows: not measured, the image could not be built: $grub_why" && echo
hw_kvm=0
grep -qwE 'vmx|svm' /proc/cpuinfo && hw_kvm=1
python3 - "$T/results" "$qemu_kvm" "$qemu_why" "$hw_kvm" "${kvm:-unknown}" <<'PY'
import re, statistics, sys

path, qemu_kvm, qemu_why = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
hw_kvm, kvm_mod = sys.argv[4] == "1", sys.argv[5]
runs = []
for l in open(path):
    kv = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', l))
    runs.append(kv)

MILESTONES = [
    ("boot", "banner_s", 'SeaBIOS banner ("SeaBIOS (version"), boot-sector disk'),
    ("boot", "bootok_s", "the boot sector's BOOT-OK (its INT 13h read through SeaBIOS's NVMe driver)"),
    ("grub", "banner_s", "SeaBIOS banner, GRUB disk"),
    ("grub", "cfg_s", "GRUB has read grub.cfg (its line on COM1)"),
    ("grub", "prompt_s", "GRUB's `grub>` prompt"),
]

def times(side, kase, key):
    ok = [float(r[key]) for r in runs
          if r["side"] == side and r["case"] == kase and r.get("ok") == "1" and key in r]
    failed = sum(1 for r in runs if r["side"] == side and r["case"] == kase and r.get("ok") != "1")
    return ok, failed

def cell(ts, failed):
    if not ts:
        return "FAILED" if failed else "—", "—"
    s = ", ".join("%.2f" % t for t in ts)
    if failed:
        s += " (+%d failed)" % failed
    return "%.2f s" % statistics.median(ts), s

print("| milestone | tandem-vmm, median | QEMU -accel kvm, median | tandem/QEMU | target: not slower than QEMU | tandem-vmm, each run (s) | QEMU, each run (s) |")
print("|---|---|---|---|---|---|---|")
for kase, key, label in MILESTONES:
    tt, tf = times("tandem", kase, key)
    if not tt and not tf:
        continue
    tmed, truns = cell(tt, tf)
    if not qemu_kvm:
        print("| %s | %s | not comparable: QEMU cannot use KVM here | — | — | %s | — |" % (label, tmed, truns))
        continue
    qt, qf = times("qemu", kase, key)
    qmed, qruns = cell(qt, qf)
    if tt and qt:
        tm, qm = statistics.median(tt), statistics.median(qt)
        ratio = "%.2fx" % (tm / qm)
        # The output is looked at every 20 ms: closer than that is a tie.
        met = "yes" if tm <= qm else "tie (within 20 ms)" if tm - qm <= 0.02 else "no"
    else:
        ratio, met = "—", "—"
    print("| %s | %s | %s | %s | %s | %s | %s |" % (label, tmed, qmed, ratio, met, truns, qruns))
print()
print("The Linux guest's first userspace line beside QEMU is in \"Linux on the PC\" "
      "(tests/bench/pc_linux_bench.sh). " +
      ("This host's KVM runs guest code on the CPU (VMX/SVM): it ran here."
       if hw_kvm else
       "This host's KVM (%s) has no VMX/SVM and runs every instruction of a guest that is not "
       "PVM-aware in its emulator, usable for firmware but not for a kernel: that bench ran in the "
       "test machine, its figures marked emulated." % kvm_mod))
if not qemu_kvm:
    print()
    print("QEMU could not use KVM on this host (`-accel kvm`: %s): its column is not comparable, "
          "and only tandem-vmm's times are shown." % (qemu_why.strip() or "it exited at once"))
bad = [r for r in runs if r.get("ok") != "1"]
if bad:
    print()
    print("Failed runs:")
    print()
    for r in bad:
        print("- %s %s round %s: %s" % (r["side"], r["case"], r["round"], r.get("error", "?").strip('"')))
print()
print("Every timed boot was then checked as the boot tests check it (pc_serial.py): the boot "
      "sector's whole output exact and nothing after BOOT-OK; at `grub>`, `cat "
      "(hd0,msdos1)/secret.txt` typed one character at a time and its 64 hex digits exact.")
sys.exit(1 if bad else 0)
PY
